using EventHub.Auth;
using EventHub.Configuration;
using EventHub.Demo;
using EventHub.Errors;
using EventHub.Health;
using EventHub.Retention;
using EventHub.Log;
using EventHub.Observability;
using EventHub.Operations;
using EventHub.SignalR;
using EventHub.Sse;
using EventHub.Storage;
using EventHub.Streaming;
using EventHub.Viewer;
using EventHub.Streaming.Internal;
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
        var hostArgs = NormalizeArgs(args);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = hostArgs,
            ContentRootPath = HubContentRoot.Choose(hostArgs),
        });
        configure?.Invoke(builder);
        // Before anything reads them: the private cluster's start and the pools (ConnectionStringCheck).
        ConnectionStringCheck.ThrowIfUnreadable(builder.Configuration);
        // The host's settings, from the "HostOptions" section too (docs/deploy.md names
        // HostOptions:ShutdownTimeout; the host itself reads only root keys such as
        // shutdownTimeoutSeconds). Its hosted services stop together, not one after another (the
        // host's default): each one reading on a session the network lost silently waits out
        // Npgsql's Cancellation Timeout (2 s) for its cancelled read, and in turn the tail, the
        // LISTEN connection and the live state's upkeep made a stop take 6-8 s, over 10 s under load
        // (SilentConnectionLossTests). No service's stop needs another's done first: streams end
        // at ApplicationStopping, the private cluster at ApplicationStopped.
        builder.Services.Configure<HostOptions>(o =>
        {
            if (string.IsNullOrEmpty(builder.Configuration["servicesStopConcurrently"])) o.ServicesStopConcurrently = true;
            builder.Configuration.GetSection("HostOptions").Bind(o);
        });

        EmbeddedPostgres? embedded = null;
        var connectionString = builder.Configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var embeddedOptions = builder.Configuration.GetSection(EmbeddedPostgresOptions.Section).Get<EmbeddedPostgresOptions>()
                ?? new EmbeddedPostgresOptions();
            using var loggerFactory = LoggerFactory.Create(l => l.AddConsole());
            embedded = new EmbeddedPostgres(embeddedOptions, loggerFactory.CreateLogger<EmbeddedPostgres>());
            try
            {
                await embedded.StartAsync(cancellationToken);
            }
            catch
            {
                // Started, then failed (creating the hub's database, or stopped meanwhile): not left running.
                try { await embedded.StopAsync(CancellationToken.None); }
                catch (Exception e) when (e is not OutOfMemoryException) { }
                throw;
            }
            // The cluster's own connection strings are unpooled (admin use); the hub's reads need a
            // pool, or every tail read and catch-up batch opens a connection (fork + SCRAM).
            connectionString = new NpgsqlConnectionStringBuilder(embedded.ConnectionString) { Pooling = true }.ConnectionString;
        }

        try
        {
            return Build(builder, connectionString, embedded, overrideServices);
        }
        catch when (embedded is not null)
        {
            // A configuration refused while the host is built: the private cluster was started for
            // nothing, and would be left running. The refusal is what to report, not a failed stop.
            try { await embedded.StopAsync(CancellationToken.None); }
            catch (Exception e) when (e is not OutOfMemoryException) { }
            throw;
        }
    }

    private static WebApplication Build(WebApplicationBuilder builder, string connectionString, EmbeddedPostgres? embedded,
        Action<IServiceCollection>? overrideServices)
    {
        // Before the host is built: the management port is one more address for Kestrel.
        var managementPorts = ManagementPort.Configure(builder);
        // A storm of opens (a dashboard fleet after a restart) arrives as one burst of SYNs: past
        // the accept backlog (Kestrel's default 512) the kernel drops them and clients retry after
        // 1 s. The kernel caps the backlog at net.core.somaxconn (4096 on current kernels).
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>(o =>
            o.Backlog = builder.Configuration.GetValue("Server:ListenBacklog", 4096));
        AddEventHub(builder.Services, builder.Configuration, connectionString);
        builder.Services.AddEventHubAuth(builder.Configuration); // auth: docs/security.md
        overrideServices?.Invoke(builder.Services);

        var app = builder.Build();
        if (embedded is not null)
        {
            // Stop the private cluster after the host has stopped every stream and the tail.
            app.Lifetime.ApplicationStopped.Register(() => embedded.StopAsync().GetAwaiter().GetResult());
        }
        app.UseEventHubErrors(); // outermost: no exception text in a response
        app.UseStatusCodeErrorBodies(); // a 404 or 405 nothing answered gets the JSON error body
        app.UseEventHubForwardedHeaders(); // the client address, before anything counts it
        app.UseCrossSiteGuard(); // foreign origins and host names refused, on every port (CrossSiteGuard)
        app.UseManagementPortGate(managementPorts); // /metrics on the management port only
        app.UseEventHubAuth(); // auth: CORS, authentication, before the endpoints
        app.UseConnectionOwnerGuard(); // a SignalR connection token serves its own principal only
        MapEventHub(app, managementPorts);
        return app;
    }

    public static void AddEventHub(IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        services.AddOptions<StreamOptions>().Bind(configuration.GetSection(StreamOptions.Section));
        services.AddOptions<SseOptions>().Bind(configuration.GetSection(SseOptions.Section));
        services.AddOptions<DemoOptions>().Bind(configuration.GetSection(DemoOptions.Section));
        services.AddSingleton(TimeProvider.System);

        // Every session of the hub (reads, the LISTEN connection, retention, notices) runs with jit=off.
        // Catch-up reads have a pool of their own, carved out of the pool they read from (the
        // primary's unless a replica is configured; LogDataSources.SplitForCatchUps says why).
        var catchUpsOnPrimary = string.IsNullOrWhiteSpace(configuration.GetConnectionString(ReplicaConnectionStringName));
        services.AddSingleton(sp => HubDataSources.Create(
            catchUpsOnPrimary ? SplitForCatchUps(sp, connectionString).Shared : connectionString, "EventHub"));
        services.AddOptions<DatabaseStartupOptions>().Bind(configuration.GetSection(DatabaseStartupOptions.Section));
        services.AddSingleton<SchemaMigrator>();
        services.AddSingleton<PlannerStatistics>();
        services.AddHostedService<MigrationHostedService>(); // first: the others need the schema
        services.AddOptions<EventHub.State.EntityKeyOptions>().Bind(configuration.GetSection(EventHub.State.EntityKeyOptions.Section));
        services.AddSingleton<EventHub.State.EntityKinds>(); // the keyed kinds, for the state's type filter
        services.AddHostedService<EventHub.State.EntityKeySync>(); // before the ticker folds ticks into the state
        services.AddOptions<EventHub.State.LiveStateOptions>().Bind(configuration.GetSection(EventHub.State.LiveStateOptions.Section));
        services.AddSingleton<EventHub.State.LiveStateUpkeep>();
        services.AddHostedService(sp => sp.GetRequiredService<EventHub.State.LiveStateUpkeep>());
        services.AddSingleton(sp => new EventHub.State.LiveStateReader(sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<IChangeLogReader>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CatchUpLimitsOptions>>().Value.MaxConcurrentStateReads,
            sp.GetRequiredService<PrimaryPools>()));

        // The tail's own pool (LogDataSources says why): the wake-up's LISTEN connection and the
        // tail's reads never queue behind catch-ups.
        services.AddKeyedSingleton(LogDataSources.Tail, (_, _) => LogDataSources.BuildTail(connectionString, "EventHubTail"));
        services.AddSingleton(sp => new PrimaryPools(
        [
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.Tail),
            .. catchUpsOnPrimary ? [sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.CatchUpPages)] : Array.Empty<NpgsqlDataSource>(),
        ]));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<PostgresListener>(sp,
            sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.Tail)));
        services.AddHostedService(sp => sp.GetRequiredService<PostgresListener>());
        services.AddSingleton<PostgresChangeNotifier>();
        services.AddSingleton<IChangeNotifier>(sp => sp.GetRequiredService<PostgresChangeNotifier>());
        services.AddOptions<TickerOptions>().Bind(configuration.GetSection(TickerOptions.Section));
        services.AddSingleton<Ticker>();
        services.AddHostedService(sp => sp.GetRequiredService<Ticker>());
        services.AddSingleton<IChangeLogReader>(sp => new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>(),
            catchUpsOnPrimary ? sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.CatchUpPages) : sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<PrimaryPools>()));
        AddReplicaReads(services, configuration, connectionString);
        services.AddSingleton<IEventFanout, ProjectFanout>();
        services.AddSingleton(sp =>
        {
            var stream = sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<StreamOptions>>().Value;
            return new RecentEventsWindow(Math.Max(1, stream.RecentEventsWindowSize), stream.RecentEventsWindowPayloadBytes);
        });
        services.AddSingleton<ChangeLogTail>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeLogTail>());
        services.AddOptions<StartupCollectionOptions>().Bind(configuration.GetSection(StartupCollectionOptions.Section));
        services.AddSingleton<StartupCollection>();
        services.AddHostedService(sp => sp.GetRequiredService<StartupCollection>()); // once the tail is ready
        services.AddOptions<CatchUpWarmUpOptions>().Bind(configuration.GetSection(CatchUpWarmUpOptions.Section));
        services.AddSingleton<CatchUpWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<CatchUpWarmUp>()); // once the tail is ready
        services.AddOptions<LiveWarmUpOptions>().Bind(configuration.GetSection(LiveWarmUpOptions.Section));
        services.AddSingleton<LiveWarmUp>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveWarmUp>()); // once the tail is ready
        services.AddSingleton<ITickBatchSink>(sp => sp.GetRequiredService<ChangeLogTail>());
        services.AddSingleton<StreamRequestValidator>();
        services.AddSingleton<EventStreamSource>();
        services.AddSingleton<EventHub.Projects.ProjectCatalog>();
        services.AddSingleton<EventHub.Streaming.Policy.StreamPolicy>(); // authorize, limit, open: both transports
        services.AddEventsHub(configuration);
        services.AddEventsHubErrorFilter();
        services.AddEventHubForwardedHeaders(configuration);

        services.AddEventHubHealth(configuration, connectionString);
        services.AddEventHubMetrics(configuration);
        services.AddEventHubOptionsValidation();
        services.AddOptions<RetentionOptions>().Bind(configuration.GetSection(RetentionOptions.Section));
        services.AddSingleton<ChangeLogRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeLogRetention>());
        services.AddHostedService<DemoActivitySimulator>();
    }

    /// <summary>
    /// Whether this node's tail reads the replica: <c>Stream:TailReadsFromReplica</c> with a replica
    /// configured (the setting means nothing without one). The reads and the health checks decide by it.
    /// </summary>
    internal static bool TailReadsReplica(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration.GetConnectionString(ReplicaConnectionStringName))
        && configuration.GetValue<bool>($"{StreamOptions.Section}:{nameof(StreamOptions.TailReadsFromReplica)}");

    /// <summary>
    /// With <c>ConnectionStrings:EventHubReplica</c> (a hot standby), catch-up reads go there, and
    /// the tail too when <c>Stream:TailReadsFromReplica</c> is set. NOTIFY does not reach a standby,
    /// so the wake-up always LISTENs on the primary; offsets are checked against the primary.
    /// Without a replica catch-ups read the primary reader (whatever implements it).
    /// Catch-up reads are bounded (<see cref="BoundedCatchUpReader"/>); the tail reads through a
    /// pool of its own on whichever server it reads (<see cref="LogDataSources"/>).
    /// </summary>
    private static void AddReplicaReads(IServiceCollection services, IConfiguration configuration, string connectionString)
    {
        var replica = configuration.GetConnectionString(ReplicaConnectionStringName);
        if (!string.IsNullOrWhiteSpace(replica))
        {
            services.AddKeyedSingleton(LogReaders.Replica, (sp, _) => HubDataSources.Create(SplitForCatchUps(sp, replica).Shared, "EventHubReplica"));
            services.AddKeyedSingleton<IChangeLogReader>(LogReaders.Replica, (sp, _) =>
                new ChangeLogReader(sp.GetRequiredKeyedService<NpgsqlDataSource>(LogReaders.Replica),
                    sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.CatchUpPages)));
        }
        var catchUpConnectionString = string.IsNullOrWhiteSpace(replica) ? connectionString : replica;
        services.AddKeyedSingleton(LogDataSources.CatchUpPages, (sp, _) => HubDataSources.Create(
            SplitForCatchUps(sp, catchUpConnectionString).Pages, "EventHubCatchUp"));
        var replicaTail = TailReadsReplica(configuration);
        if (replicaTail)
            services.AddKeyedSingleton(LogDataSources.ReplicaTail, (_, _) => LogDataSources.BuildTail(replica!, "EventHubReplicaTail"));

        services.AddCatchUpLimits(configuration, catchUpConnectionString);
        services.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) => new BoundedCatchUpReader(
            sp.GetKeyedService<IChangeLogReader>(LogReaders.Replica) ?? sp.GetRequiredService<IChangeLogReader>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CatchUpLimitsOptions>>().Value.MaxConcurrentCatchUps));
        services.AddKeyedSingleton<IChangeLogReader>(LogReaders.Tail, (sp, _) => new ChangeLogReader(
            sp.GetRequiredKeyedService<NpgsqlDataSource>(replicaTail ? LogDataSources.ReplicaTail : LogDataSources.Tail),
            sp.GetRequiredService<PrimaryPools>(), boundPayloadsInDatabase: true)); // a replica's pool is not the primary's: no loss token there
    }

    public const string ReplicaConnectionStringName = "EventHubReplica";

    private static (string Shared, string Pages) SplitForCatchUps(IServiceProvider services, string connectionString) =>
        LogDataSources.SplitForCatchUps(connectionString,
            services.GetRequiredService<Microsoft.Extensions.Options.IOptions<CatchUpLimitsOptions>>().Value.MaxConcurrentCatchUps);

    public static void MapEventHub(WebApplication app, IReadOnlySet<int>? managementPorts = null)
    {
        app.UseEventHubViewer(); // the live event viewer at /
        app.MapEventStream();
        EventHub.State.StateEndpoint.MapLiveState(app);
        EventHub.Projects.ProjectsEndpoint.MapProjects(app);
        app.MapEventHubHealth();
        app.MapEventHubMetrics(managementPorts ?? new HashSet<int>());
        app.MapEventsHub();
    }

    // "--demo" alone is the documented switch; the configuration system wants key=value.
    private static string[] NormalizeArgs(string[] args) =>
        args.Select(a => a == "--demo" ? "--Demo:Enabled=true" : a).ToArray();
}
