using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace EventHub.Health;

/// <summary><c>/healthz</c>: the process is alive. <c>/readyz</c>: it can serve streams (database, tail and ticker) and its start-up warm-up has ended.</summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>
    /// A ready check's status while the hub is still starting (its tail not started, its warm-up
    /// running): <c>/readyz</c> answers 503 for it as for a failure, but the health check service
    /// logs it as a Warning, not as an Error with each probe of every start.
    /// </summary>
    public const HealthStatus NotReadyYet = HealthStatus.Degraded;

    /// <param name="primaryConnectionString">The primary's connection string (the configured one, or the private cluster's).</param>
    public static IServiceCollection AddEventHubHealth(this IServiceCollection services, IConfiguration configuration, string primaryConnectionString)
    {
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section));
        var replica = configuration.GetConnectionString(EventHubApp.ReplicaConnectionStringName);
        var tailReadsReplica = EventHubApp.TailReadsReplica(configuration);
        services.AddHealthChecks()
            .AddCheck<TailHealthCheck>("change_log_tail", tags: [ReadyTag])
            .AddCheck<TickerHealthCheck>("ticker", tags: [ReadyTag])
            .AddTypeActivatedCheck<DeliveryHealthCheck>("delivery", failureStatus: null, tags: [ReadyTag], args: [tailReadsReplica])
            .AddCheck<StartupWarmUpHealthCheck>("startup_warm_up", tags: [ReadyTag]);
        if (!string.IsNullOrWhiteSpace(replica))
        {
            services.AddSingleton(sp => new ReplicaHealthCheck(ReplicaHealthCheck.CreateProbe(replica), sp.GetRequiredService<TimeProvider>()));
            services.AddHealthChecks().AddCheck<ReplicaHealthCheck>("read_replica", tags: [ReadyTag]);
            // A tail on the primary fails its next read when the primary goes; one on the replica does not.
            if (tailReadsReplica)
            {
                services.AddSingleton(sp => new PrimaryHealthCheck(PrimaryHealthCheck.CreateProbe(primaryConnectionString), sp.GetRequiredService<TimeProvider>()));
                services.AddHealthChecks().AddCheck<PrimaryHealthCheck>("primary", tags: [ReadyTag]);
            }
        }
        return services;
    }

    public static void MapEventHubHealth(this IEndpointRouteBuilder endpoints)
    {
        // GET and HEAD, as probes send: health checks answer any method by default, and a POST got
        // 200 where every other path of the hub says 405.
        var probeMethods = new HttpMethodMetadata(["GET", "HEAD"]);
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).WithMetadata(probeMethods);
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [NotReadyYet] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).WithMetadata(probeMethods);
    }
}
