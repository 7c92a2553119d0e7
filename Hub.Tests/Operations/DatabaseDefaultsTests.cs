using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>
/// Defaults an operator set on the database for its applications (<c>ALTER DATABASE … SET</c>, as
/// on a role) do not reach the hub's sessions (HubDataSources): <c>idle_session_timeout</c> closed
/// the sessions the hub keeps open on purpose (the LISTEN connection, the tail's and the catch-up
/// reads' pools), so the first catch-up after a quiet spell failed; <c>statement_timeout</c>
/// cancelled the live state's fold of a large tick at every retry, so the state stayed behind it for
/// good; with <c>default_transaction_isolation</c> REPEATABLE READ every tick failed (the tick
/// function needs READ COMMITTED) and no event was delivered; with <c>synchronous_commit</c> off the
/// "now" ticks of a node that does not tick committed asynchronously. A setting the connection
/// string's Options gives is the operator's choice for the hub, and kept.
/// </summary>
public sealed class DatabaseDefaultsTests(ITestOutputHelper output)
{
    private const int LogRows = 300;

    [Fact]
    public async Task With_the_databases_idle_session_timeout_the_hubs_kept_sessions_stay_open_and_a_catch_up_after_a_quiet_spell_streams_the_log()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", LogRows);
        await using var check = await db.DataSource.OpenConnectionAsync();
        await check.ExecuteAsync($"ALTER DATABASE \"{check.Database}\" SET idle_session_timeout = '1s'"); // sessions opened from now on
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["Stream:RecentEventsWindowSize"] = "0", // catch-ups read the log, through the catch-up pool
            ["Stream:CatchUpBatchSize"] = "100",
        });
        await CatchUpAsync();
        var before = await KeptSessionsAsync();
        output.WriteLine($"the hub's tail and catch-up sessions: {string.Join(", ", before)}");
        Assert.Contains(before, s => s.EndsWith(" catch-up", StringComparison.Ordinal));
        Assert.Contains(before, s => s.StartsWith("LISTEN", StringComparison.Ordinal));

        // A quiet spell three times the server's timeout: the idleness is what is tested, not a synchronisation.
        await Task.Delay(TimeSpan.FromSeconds(3));

        var after = await KeptSessionsAsync();
        // None closed by the server (a LISTEN reconnect has a new pid). By pid: pg_stat_activity shows
        // a session's last statement, and the listener's is its idle check after 5 s without a notice.
        Assert.All(before, s => Assert.Contains(Pid(s), after.Select(Pid)));
        await CatchUpAsync(); // with those sessions: every event, no stream_error

        async Task CatchUpAsync()
        {
            await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=bulk&after=0");
            var frames = await sse.ReadEventsAsync(LogRows);
            Assert.All(frames, f => Assert.Equal("session_created", f.Event));
            Assert.Equal(Enumerable.Range(1, LogRows).Select(n => $"bulk-{n}"), frames.Select(f => f.Payload.GetProperty("id").GetString()));
        }

        static string Pid(string session) => session.StartsWith("LISTEN ", StringComparison.Ordinal) ? session["LISTEN ".Length..] : session;

        // The tail's (its LISTEN connection, its reads, the ticker's) and the catch-up reads' sessions, by pid.
        async Task<string[]> KeptSessionsAsync() => [.. await check.QueryAsync<string>("""
            SELECT CASE WHEN query LIKE 'LISTEN%' THEN 'LISTEN ' ELSE '' END || pid || ' ' || application_name FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND (application_name LIKE '% tail' OR application_name LIKE '% catch-up')
            ORDER BY pid
            """)];
    }

    [Fact]
    public async Task With_the_databases_statement_timeout_a_large_tick_is_still_folded_into_the_live_state()
    {
        const int rows = 30_000; // folding them takes far longer than the 50 ms below
        await using var db = await TestDatabase.CreateAsync();
        await using var check = await db.DataSource.OpenConnectionAsync();
        await check.ExecuteAsync($"ALTER DATABASE \"{check.Database}\" SET statement_timeout = '50ms'"); // sessions opened from now on
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        await using (var writer = await db.DataSource.OpenConnectionAsync())
        {
            await writer.ExecuteAsync("SET statement_timeout = 0"); // the load itself is not the question
            await writer.ExecuteAsync($"""
                INSERT INTO change_log (project_id, event_type, payload)
                SELECT 'ao', 'session_created', jsonb_build_object('id', 'load-' || i) FROM generate_series(1, {rows}) i
                """);
        }
        var head = await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head").WithTimeout(); // the load is in a tick
        await TaskTimeouts.UntilAsync(async () => await check.ExecuteScalarAsync<long?>("SELECT through_tick FROM eventhub_state_ready")
                == await check.ExecuteScalarAsync<long>("SELECT max(tick_id) FROM eventhub_tick"),
            TimeSpan.FromSeconds(60), "the live state folded through the load's tick");

        var state = await http.GetFromJsonAsync<JsonElement>("/api/v1/state?project=ao").WithTimeout();
        Assert.Equal(head.GetProperty("offset").GetString(), state.GetProperty("offset").GetString());
        Assert.Equal(rows, state.GetProperty("entities").GetArrayLength());
    }

    [Fact]
    public async Task With_the_databases_default_isolation_repeatable_read_the_hub_ticks_and_streams()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync($"ALTER DATABASE \"{c.Database}\" SET default_transaction_isolation = 'repeatable read'");
        await using var hub = await HubServer.StartAsync(db.ConnectionString);
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao");

        var session = await db.Writer.SessionAsync("ao", 1);
        var e = await sse.ReadEventAsync();
        Assert.Equal("session_created", e.Event);
        Assert.Equal(session, e.Payload.GetProperty("id").GetString());
    }

    [Fact]
    public async Task With_the_databases_commits_asynchronous_by_default_the_hubs_sessions_commit_synchronously()
    {
        // A node that does not tick makes its "now" ticks on the shared pool: a tick it served
        // must not be lost in a crash (the ticker's own session sets this itself).
        await using var db = await TestDatabase.CreateAsync();
        await using (var c = await db.DataSource.OpenConnectionAsync())
            await c.ExecuteAsync($"ALTER DATABASE \"{c.Database}\" SET synchronous_commit = off");
        await using var plain = NpgsqlDataSource.Create(db.ConnectionString);
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "sync-commit-test");
        Assert.Equal("off", await ShowAsync(plain)); // the database's default, as any other application gets it
        Assert.Equal("on", await ShowAsync(hubSessions));
        Assert.Equal("on", await ShowAsync(hubSessions)); // a pooled session, back from the pool (not reset: HubDataSources)

        static async Task<string?> ShowAsync(NpgsqlDataSource source)
        {
            await using var c = await source.OpenConnectionAsync();
            return await c.ExecuteScalarAsync<string>("SHOW synchronous_commit");
        }
    }

    [Fact]
    public async Task The_server_probes_the_hubs_sessions_with_TCP_keepalive()
    {
        // A transaction of the hub's whose client the network lost keeps its locks until the
        // server learns of it: two hours at the kernel's defaults (HubDataSources).
        await using var db = await TestDatabase.CreateAsync();
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "keepalive-test");
        await using var c = await hubSessions.OpenConnectionAsync();
        Assert.Equal("30", await c.ExecuteScalarAsync<string>("SHOW tcp_keepalives_idle")); // seconds
        Assert.Equal("10", await c.ExecuteScalarAsync<string>("SHOW tcp_keepalives_interval"));
    }

    [Fact]
    public void The_hubs_sessions_start_with_their_own_settings_and_keep_those_the_connection_string_gives()
    {
        const string isolation = @"-c default_transaction_isolation=read\ committed -c synchronous_commit=on -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10";
        Assert.Equal($"-c jit=off -c enable_bitmapscan=off -c statement_timeout=0 -c idle_session_timeout=0 {isolation}",
            OptionsOf("Host=h;Username=u"));
        Assert.Equal($"-c statement_timeout=5s -c jit=off -c enable_bitmapscan=off -c idle_session_timeout=0 {isolation}",
            OptionsOf("Host=h;Username=u;Options=-c statement_timeout=5s"));

        static string? OptionsOf(string connectionString)
        {
            using var dataSource = EventHub.Storage.HubDataSources.Create(connectionString, "options-test");
            return new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).Options;
        }
    }

    [Fact]
    public void The_hubs_pools_do_not_reset_sessions_keep_TCP_alive_and_the_tails_bounds_its_reads_unless_the_connection_string_says_otherwise()
    {
        Assert.True(Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u", "t")).NoResetOnClose);
        Assert.False(Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u;No Reset On Close=false", "t")).NoResetOnClose);
        Assert.False(Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u;NoResetOnClose=false", "t")).NoResetOnClose);

        var tail = Built(EventHub.Log.LogDataSources.BuildTail("Host=h;Username=u", "t"));
        Assert.Equal(EventHub.Log.LogDataSources.TailCommandTimeoutSeconds, tail.CommandTimeout);
        Assert.True(tail.NoResetOnClose);
        Assert.Equal(60, Built(EventHub.Log.LogDataSources.BuildTail("Host=h;Username=u;Command Timeout=60", "t")).CommandTimeout);
        Assert.Equal(60, Built(EventHub.Log.LogDataSources.BuildTail("Host=h;Username=u;CommandTimeout=60", "t")).CommandTimeout);
        Assert.Equal(30, Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u", "t")).CommandTimeout); // only the tail's

        var keepAlive = Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u", "t"));
        Assert.Equal((30, 10), (keepAlive.TcpKeepAliveTime, keepAlive.TcpKeepAliveInterval));
        var given = Built(EventHub.Storage.HubDataSources.Create("Host=h;Username=u;Tcp Keepalive=true", "t"));
        Assert.Equal((0, 0), (given.TcpKeepAliveTime, given.TcpKeepAliveInterval)); // the system's, as asked

        static NpgsqlConnectionStringBuilder Built(NpgsqlDataSource dataSource)
        {
            using (dataSource) return new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        }
    }
}
