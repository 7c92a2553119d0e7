using EventHub.Auth;
using EventHub.Configuration;
using EventHub.Demo;
using EventHub.Health;
using EventHub.Retention;
using EventHub.Log;
using EventHub.Observability;
using EventHub.SignalR;
using EventHub.Sse;
using EventHub.Storage;
using EventHub.Streaming;
using EventHub.Viewer;
using Npgsql;

namespace EventHub;

/// <summary>Composition of the hub: configuration, services and endpoints. Used by Program and by the tests.</summary>
public static class EventHubApp
{
    public const string ConnectionStringName = "EventHub";

    /// <summary>
    /// Builds the hub. Without <c>ConnectionStrings:EventHub</c> it first starts (or reuses) a
    /// private PostgreSQL cluster from the local binaries and stops it when the hub stops.
    /// </summary>
    /// <param name="args">Command-line arguments (<c>--demo</c> enables the demo activity).</param>
    /// <param name="configure">Runs first: configuration and logging.</param>
    /// <param name="overrideServices">Runs after the hub's services are added: tests replace seams here.</param>
    /// <param name="cancellationToken">Cancels start-up of the private cluster.</param>
    public static async Task<WebApplication> BuildAsync(string[] args, Action<WebApplicationBuilder>? configure = null,
        Action<IServiceCollection>? overrideServices = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(NormalizeArgs(args));
        configure?.Invoke(builder);

        EmbeddedPostgres? embedded = null;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var embeddedOptions = builder.Configuration.GetSection(EmbeddedPostgresOptions.Section).Get<EmbeddedPostgresOptions>()
                ?? new EmbeddedPostgresOptions();
            using var loggerFactory = LoggerFactory.Create(l => l.AddConsole());
            embedded = new EmbeddedPostgres(embeddedOptions, loggerFactory.CreateLogger<EmbeddedPostgres>());
            await embedded.StartAsync(cancellationToken);
            // The cluster's own connection strings are unpooled (admin use); the hub's reads need a
            // pool, or every tail read and catch-up batch opens a connection (fork + SCRAM).
            connectionString = new NpgsqlConnectionStringBuilder(embedded.ConnectionString) { Pooling = true }.ConnectionString;
        }

        AddEventHub(builder.Services, builder.Configuration, connectionString);
        builder.Services.AddEventHubAuth(builder.Configuration); // auth: docs/security.md
        overrideServices?.Invoke(builder.Services);

        var app = builder.Build();
        if (embedded is not null)
        {
            // Stop the private cluster after the host has stopped every stream and the tail.
            app.Lifetime.ApplicationStopped.Register(() => embedded.StopAsync().GetAwaiter().GetResult());
        }
        app.UseEventHubAuth(); // auth: CORS, authentication, before the endpoints
        MapEventHub(app);
        return app;
    }

    public static void AddEventHub(IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<StreamOptions>().Bind(configuration.GetSection(StreamOptions.Section));
        services.AddOptions<SseOptions>().Bind(configuration.GetSection(SseOptions.Section));
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.Section));
        services.AddSingleton(TimeProvider.System);

        // Every session of the hub (reads, the LISTEN connection, retention, notices) runs with jit=off.
        services.AddSingleton(_ => HubDataSources.Create(connectionString, "EventHub"));
        services.AddSingleton<SchemaMigrator>();
        services.AddHostedService<MigrationHostedService>(); // first: the others need the schema

        services.AddSingleton<PostgresChangeNotifier>();
        services.AddSingleton<IChangeNotifier>(sp => sp.GetRequiredService<PostgresChangeNotifier>());
        services.AddHostedService(sp => sp.GetRequiredService<PostgresChangeNotifier>());
        services.AddSingleton<IChangeLogReader, ChangeLogReader>();
        AddReplicaReads(services, configuration);
        services.AddSingleton<IEventFanout, ProjectFanout>();
        services.AddSingleton(sp => new RecentEventsWindow(
            Math.Max(1, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<StreamOptions>>().Value.RecentEventsWindowSize)));
        services.AddSingleton<ChangeLogTail>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeLogTail>());
        services.AddSingleton<StreamRequestValidator>();
        services.AddSingleton<EventStreamSource>();
        services.AddSingleton<EventHub.Streaming.Policy.StreamPolicy>(); // authorize, limit, open: both transports
        services.AddEventsHub(configuration);

        services.AddEventHubHealth(configuration);
        services.AddEventHubMetrics();
        services.AddEventHubOptionsValidation();
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section));
        services.AddSingleton<ChangeLogRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeLogRetention>());
        services.AddHostedService<DemoActivitySimulator>();
    }

    /// <summary>
    /// With <c>ConnectionStrings:EventHubReplica</c> (a hot standby), catch-up reads go there, and
    /// the tail too when <c>Stream:TailReadsFromReplica</c> is set. NOTIFY does not reach a standby,
    /// so the wake-up always LISTENs on the primary; offsets are checked against the primary.
    /// Without a replica both keys resolve to the primary reader (whatever implements it).
    /// </summary>
    private static void AddReplicaReads(IServiceCollection services, IConfiguration configuration)
    {
        var replica = configuration.GetConnectionString(ReplicaConnectionStringName);
        var tailFromReplica = configuration.GetValue<bool>($"{StreamOptions.Section}:{nameof(StreamOptions.TailReadsFromReplica)}");
        if (!string.IsNullOrWhiteSpace(replica))
            services.AddKeyedSingleton<IChangeLogReader>(LogReaders.Replica, (_, _) =>
                new ChangeLogReader(HubDataSources.Create(replica, "EventHubReplica")));
        services.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
            sp.GetKeyedService<IChangeLogReader>(LogReaders.Replica) ?? sp.GetRequiredService<IChangeLogReader>());
        services.AddKeyedSingleton<IChangeLogReader>(LogReaders.Tail, (sp, _) =>
            (tailFromReplica ? sp.GetKeyedService<IChangeLogReader>(LogReaders.Replica) : null) ?? sp.GetRequiredService<IChangeLogReader>());
    }

    public const string ReplicaConnectionStringName = "EventHubReplica";

    public static void MapEventHub(WebApplication app)
    {
        app.UseEventHubViewer(); // the live event viewer at /
        app.MapEventStream();
        app.MapEventHubHealth();
        app.MapEventHubMetrics();
        app.MapEventsHub();
    }

    // "--demo" alone is the documented switch; the configuration system wants key=value.
    private static string[] NormalizeArgs(string[] args) =>
        args.Select(a => a == "--demo" ? "--Demo:Enabled=true" : a).ToArray();
}
