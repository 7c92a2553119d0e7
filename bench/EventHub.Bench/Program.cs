using System.Diagnostics;
using System.Globalization;
using EventHub.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace EventHub.Bench;

public sealed class BenchOptions
{
    public bool Quick { get; set; }
    public string RepoRoot { get; set; } = "";
    public string OutDir { get; set; } = "";
    public int[] Subscribers { get; set; } = [1, 100, 1000, 5000];
    public int[] Rates { get; set; } = [10, 50, 100, 1000];
    public Transport[] Transports { get; set; } = [Transport.Sse, Transport.SignalRJson, Transport.SignalRMessagePack];
    public double CellSeconds { get; set; } = 5;
    public double DrainSeconds { get; set; } = 10;
    public int PayloadNoteLength { get; set; } = 170;
    public int CatchUpEvents { get; set; } = 1_000_000;
    public int CatchUpClients { get; set; } = 100;
    public double CatchUpOneCapSeconds { get; set; } = 90;
    /// <summary>Events per second the writer commits during the second, loaded catch-up of a comparison.</summary>
    public double CatchUpWriteRate { get; set; } = 200;
    public double CatchUpManyCapSeconds { get; set; } = 45;
    public int[] IdleSubscribers { get; set; } = [1000, 5000];
    public int DbLoadSubscribers { get; set; } = 5000;
    public int DbLoadRate { get; set; } = 50;
    public double DbLoadSeconds { get; set; } = 10;
    public double WriteCostSeconds { get; set; } = 5;
    public bool Baseline { get; set; } = true;

    /// <summary>
    /// The latency grid runs twice, the hub restarted in between: the second grid's first cell is a
    /// fresh hub measured by a bench process that has already run (its own first-run costs paid).
    /// </summary>
    public bool LatencyRestartHub { get; set; }
    /// <summary>Keep the cluster's log (lock waits, autovacuum, checkpoints, statements above 50 ms) as postgres.log beside the results.</summary>
    public bool KeepPgLog { get; set; }
    public HashSet<string> Sections { get; set; } = ["latency", "memory", "dbload", "writecost", "catchup", "state"];
    /// <summary>The hub to measure; default: this repository's Hub/bin/Release/net10.0/EventHub.Hub.dll.</summary>
    public string? HubDll { get; set; }
    public string HubLabel { get; set; } = "hub";
    /// <summary>A second hub build: the run becomes a comparison of the two (bench/EventHub.Bench/Compare.cs).</summary>
    public string? CompareDll { get; set; }
    public string CompareLabel { get; set; } = "compare";
    public string CompareCommit { get; set; } = "?";
    public int CompareRounds { get; set; } = 5;
    public double CompareCellSeconds { get; set; } = 10;
    /// <summary>The unmeasured time at the same rate before each compared latency cell.</summary>
    public double CompareWarmUpSeconds { get; set; } = 2;
    public int CompareLogRows { get; set; } = 500_000;
    public int CompareLogBatch { get; set; } = 1_000;
    /// <summary>The rows the "as users meet it" latency case adds to the analyzed log, with no ANALYZE by hand.</summary>
    public int CompareRealRows { get; set; } = 100_000;
    public double StallSeconds { get; set; } = 30;
    public int Opens { get; set; } = 1000;
    public bool SectionsGiven { get; set; }
    /// <summary>A server counts as idle below this share of a core (WaitIdleAsync).</summary>
    public double IdleCpuShare { get; set; } = 0.06;
    /// <summary>The state section (issue 15): log size, entities of the project, writer rate, requests.</summary>
    public long StateEvents { get; set; } = 1_000_000;
    public int StateEntities { get; set; } = 10_000;
    public double StateWriterRate { get; set; } = 100;
    public int StateRequests { get; set; } = 100;
    public int StateWayRounds { get; set; } = 30;
    /// <summary>Seconds the state section keeps its database, hub and writer up after its requests (for profiling by hand).</summary>
    public int StateHoldSeconds { get; set; }

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            int[] Ints() => Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            switch (args[i])
            {
                case "--quick":
                    o.Quick = true;
                    o.Subscribers = [1, 100];
                    o.Rates = [10, 100];
                    o.CellSeconds = 3;
                    o.DrainSeconds = 5;
                    o.CatchUpEvents = 100_000;
                    o.CatchUpClients = 10;
                    o.CatchUpOneCapSeconds = 30;
                    o.CatchUpManyCapSeconds = 15;
                    o.IdleSubscribers = [200, 1000];
                    o.DbLoadSubscribers = 1000;
                    o.DbLoadSeconds = 5;
                    o.WriteCostSeconds = 3;
                    o.StateEvents = 100_000;
                    o.StateRequests = 20;
                    o.StateWayRounds = 5;
                    break;
                case "--repo": o.RepoRoot = Next(); break;
                case "--out": o.OutDir = Next(); break;
                case "--subscribers": o.Subscribers = Ints(); break;
                case "--rates": o.Rates = Ints(); break;
                case "--cell-seconds": o.CellSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--compare-warmup-seconds": o.CompareWarmUpSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--catchup-events": o.CatchUpEvents = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--idle": o.IdleSubscribers = Ints(); break;
                case "--dbload-subscribers": o.DbLoadSubscribers = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--no-baseline": o.Baseline = false; break;
                case "--latency-restart-hub": o.LatencyRestartHub = true; break;
                case "--pg-log": o.KeepPgLog = true; break;
                case "--hub-dll": o.HubDll = Path.GetFullPath(Next()); break;
                case "--hub-label": o.HubLabel = Next(); break;
                case "--compare-dll": o.CompareDll = Path.GetFullPath(Next()); break;
                case "--compare-label": o.CompareLabel = Next(); break;
                case "--compare-commit": o.CompareCommit = Next(); break;
                case "--rounds": o.CompareRounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--log-rows": o.CompareLogRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--real-rows": o.CompareRealRows = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--stall-seconds": o.StallSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-events": o.StateEvents = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-entities": o.StateEntities = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-rate": o.StateWriterRate = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-hold": o.StateHoldSeconds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-requests": o.StateRequests = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--state-way-rounds": o.StateWayRounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--opens": o.Opens = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--write-seconds": o.WriteCostSeconds = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--sections": o.Sections = [.. Next().Split(',')]; o.SectionsGiven = true; break;
                case "--transports":
                    o.Transports = Next().Split(',').Select(t => t switch
                    {
                        "sse" => Transport.Sse, "json" => Transport.SignalRJson, "msgpack" => Transport.SignalRMessagePack,
                        _ => throw new ArgumentException($"unknown transport {t}"),
                    }).ToArray();
                    break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (o.RepoRoot == "") o.RepoRoot = Directory.GetCurrentDirectory();
        if (o.OutDir == "") o.OutDir = Path.Combine(o.RepoRoot, "bench", "results");
        return o;
    }
}

public static class BenchMain
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--baseline-server")
        {
            await BaselineServer.RunAsync(args[1..]);
            return 0;
        }
        ThreadPool.SetMinThreads(32, 32);
        var options = BenchOptions.Parse(args);
        var shown = Environment.GetEnvironmentVariable("EVENTHUB_BENCH_COMMAND");
        var run = new BenchRun(options, shown ?? "bash bench/run.sh " + string.Join(' ', args.Where(a => a != "--repo" && !a.StartsWith('/'))));
        return await run.RunAsync();
    }
}

public sealed partial class BenchRun(BenchOptions o, string command)
{
    private readonly BenchResults _r = new();
    private readonly Timeline _timeline = new(4_000_000);
    private EmbeddedPostgres _pg = null!;
    private NpgsqlDataSource _admin = null!;   // postgres: schema, bulk data, statistics
    private NpgsqlDataSource _writerDb = null!; // bench_writer: the measured writes (a role of its own so they can be told apart)
    private ServerProcess _hub = null!;
    private Writer _writer = null!;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private void Log(string message) =>
        Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    public async Task<int> RunAsync()
    {
        var started = DateTime.UtcNow;
        _r.Date = DateTime.Now.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        _r.StartedUtc = started.ToString("O", CultureInfo.InvariantCulture);
        _r.Mode = o.Quick ? "quick" : "full";
        _r.Command = command.Trim();
        _r.LoadAverages.Add(Machine.LoadAverage());
        var tmp = Path.Combine(Path.GetTempPath(), "eventhub-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await SetUpAsync(tmp);
            if (o.CompareDll is not null) await CompareAsync();
            else
            {
                if (o.Sections.Contains("latency")) await LatencySectionAsync();
                if (o.Sections.Contains("memory") || o.Sections.Contains("dbload")) await MemoryAndDbLoadSectionAsync();
                if (o.Sections.Contains("writecost")) await WriteCostSectionAsync();
                if (o.Sections.Contains("catchup")) await CatchUpSectionAsync();
                if (o.Sections.Contains("state")) await StateSectionAsync();
            }
        }
        catch (Exception e)
        {
            Log("FAILED: " + e);
            _r.Notes.Add("The run stopped early: " + e.GetType().Name + ": " + e.Message);
        }
        finally
        {
            _r.LoadAverages.Add(Machine.LoadAverage());
            _r.DurationSeconds = Math.Round((DateTime.UtcNow - started).TotalSeconds);
            if (o.CompareDll is not null)
            {
                foreach (var b in _builds)
                    if (b.Hub is not null) await b.Hub.DisposeAsync();
            }
            else if (_hub is not null) await _hub.DisposeAsync();
            if (_pg is not null) await _pg.StopAsync();
            if (o.KeepPgLog && File.Exists(Path.Combine(tmp, "postgres.log")))
            {
                Directory.CreateDirectory(o.OutDir);
                File.Copy(Path.Combine(tmp, "postgres.log"), Path.Combine(o.OutDir, "postgres.log"), overwrite: true);
            }
            try { Directory.Delete(tmp, recursive: true); } catch (Exception) { }
        }
        if (o.CompareDll is null) Report.Evaluate(_r, o);
        else CompareReport.Evaluate(_r, o);
        var (md, json) = Report.Write(_r, o.OutDir, o.Quick);
        Log($"wrote {md} and {json}");
        return 0;
    }

    private async Task SetUpAsync(string tmp)
    {
        var hubDll = HubDll();
        if (!File.Exists(hubDll)) throw new FileNotFoundException("Build the hub first: dotnet build -c Release Hub", hubDll);
        if (o.CompareDll is not null && !File.Exists(o.CompareDll)) throw new FileNotFoundException("--compare-dll", o.CompareDll);

        Log($"starting a private PostgreSQL in {tmp}");
        _pg = new EmbeddedPostgres(new EmbeddedPostgresOptions { Directory = tmp }, NullLogger.Instance);
        await _pg.StartAsync();
        await using (var c = new NpgsqlConnection(_pg.AdminConnectionString))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'; " +
                // What may stall a cell, in the log that --pg-log keeps: lock waits above 50 ms
                // (deadlock_timeout is when a wait is logged), every autovacuum and autoanalyze,
                // checkpoints and statements above 50 ms.
                (o.KeepPgLog ? "ALTER SYSTEM SET log_lock_waits = on; ALTER SYSTEM SET deadlock_timeout = '50ms'; " +
                               "ALTER SYSTEM SET log_autovacuum_min_duration = 0; ALTER SYSTEM SET log_checkpoints = on; " +
                               "ALTER SYSTEM SET log_min_duration_statement = 50; " : "") +
                "CREATE ROLE bench_writer LOGIN SUPERUSER PASSWORD 'bench'; CREATE ROLE bench_baseline LOGIN SUPERUSER PASSWORD 'bench'", c);
            await cmd.ExecuteNonQueryAsync();
        }
        await _pg.StopAsync();
        await _pg.StartAsync(); // with pg_stat_statements loaded

        _r.Machine["cores"] = Environment.ProcessorCount;
        _r.Machine["cpu"] = Machine.Cpu();
        _r.Machine["memoryGiB"] = Math.Round(Machine.MemoryBytes() / (1024.0 * 1024 * 1024), 1);
        _r.Machine["os"] = Machine.Os();
        _r.Machine["openFileLimit"] = OpenFileLimit();
        _r.Versions[".NET runtime"] = Environment.Version.ToString();
        _r.Versions["PostgreSQL"] = await ScalarAsync<string>(new NpgsqlDataSourceBuilder(_pg.ConnectionString).Build(), "SHOW server_version");
        _r.Versions["Microsoft.AspNetCore.SignalR.Client"] = "10.0.15";
        _r.Versions["hub commit"] = GitHead();
        if (o.CompareDll is not null)
        {
            // A comparison run sets up each build's database and hub itself (Compare.cs).
            _r.Parameters["mode"] = "comparison";
            _r.Parameters["eventSource"] = "bench_pr: a copy of pr with a padding column 'note'; its AFTER INSERT trigger (same shape as pr's) writes a pr_updated row into change_log";
            _r.Parameters["writer"] = "open loop: event i due at start+i/rate; one transaction per event (INSERT bench_pr; SELECT currval of change_log seq; COMMIT); commit time = when COMMIT returns; 4 connections";
            _r.Parameters["latency"] = "client receive time - commit time, same process, Stopwatch clock; an event that arrives before its COMMIT reply counts as 0";
            _r.Parameters["subscription"] = "SSE, project=bench, from now; clients open 64 at a time (opens: all at once), then a warm-up event must reach every client";
            _r.Parameters["hubSettings"] = "each build's defaults (its appsettings.json), Logging:LogLevel:Default=Warning; connection string with Pooling=true";
            _r.Parameters["clientSockets"] = "bound to 127.0.0.2-201 in turn";
            return;
        }

        await StartHubAsync();

        _admin = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { MaxPoolSize = 20 }.ConnectionString).Build();
        _writerDb = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(_pg.ConnectionString)
        { Username = "bench_writer", Password = "bench", MaxPoolSize = 32, ApplicationName = "bench-writer" }.ConnectionString).Build();
        await BenchSchema.ApplyAsync(_admin, o.PayloadNoteLength);
        _writer = new Writer(_writerDb, _timeline, BenchSchema.Note(o.PayloadNoteLength));
        await _writer.RunAsync(10, TimeSpan.FromSeconds(0.5), 0, 2);
        var payloadBytes = await ScalarAsync<int>(_admin, "SELECT octet_length(payload::text) FROM change_log ORDER BY seq DESC LIMIT 1");

        _r.Parameters["mode"] = o.Quick ? "quick" : "full";
        _r.Parameters["subscribers"] = o.Subscribers;
        _r.Parameters["ratesPerSecond"] = o.Rates;
        _r.Parameters["transports"] = o.Transports.Select(t => t.ToString()).ToArray();
        _r.Parameters["cellSeconds"] = o.CellSeconds;
        _r.Parameters["drainSeconds"] = o.DrainSeconds;
        _r.Parameters["payloadBytes (jsonb text of the payload)"] = payloadBytes;
        _r.Parameters["eventSource"] = "bench_pr: a copy of pr with a padding column 'note'; its AFTER INSERT trigger (same shape as pr's) writes a pr_updated row into change_log";
        _r.Parameters["writer"] = "open loop: event i due at start+i/rate; one transaction per event (INSERT bench_pr; SELECT currval of change_log seq; COMMIT); commit time = when COMMIT returns; 4 connections (8 at >= 500/s)";
        _r.Parameters["latency"] = "client receive time - commit time, same process, Stopwatch clock; an event that arrives before its COMMIT reply counts as 0";
        _r.Parameters["subscription"] = "project=bench, from now; clients open 64 at a time, then a warm-up event must reach every client";
        _r.Parameters["catchUpEvents"] = o.CatchUpEvents;
        _r.Parameters["catchUpClients"] = o.CatchUpClients;
        _r.Parameters["catchUpCapsSeconds"] = new[] { o.CatchUpOneCapSeconds, o.CatchUpManyCapSeconds };
        _r.Parameters["idleSubscribers"] = o.IdleSubscribers;
        _r.Parameters["dbLoad"] = $"{o.DbLoadRate} events/s for {o.DbLoadSeconds} s, 1 and {o.DbLoadSubscribers} SSE subscribers; statements counted by pg_stat_statements for the server's own role";
        _r.Parameters["writeCost"] = $"8 writers, {o.WriteCostSeconds} s each, single-row autocommit INSERTs";
        _r.Parameters["hubSettings"] = "defaults (appsettings.json), Logging:LogLevel:Default=Warning, Server GC as shipped; connection string with Pooling=true (Npgsql's default; EmbeddedPostgres.ConnectionString turns it off)";
        _r.Parameters["baseline"] = o.Baseline ? $"naive SSE server (bench/EventHub.Bench/Baseline.cs), separate process, own query per client every {BaselineServer.PollInterval.TotalMilliseconds} ms, LIMIT {BaselineServer.BatchSize}, pool 100" : "off";
        _r.Parameters["clientSockets"] = "bound to 127.0.0.2-201 in turn";
        if (o.Sections.Contains("state"))
            _r.Parameters["state"] = $"log grown to {o.StateEvents:N0} events (at least 10 per entity) by INSERT ... SELECT generate_series into change_log, 5,000 per transaction, " +
                $"60 % to project {StateProject} ({o.StateEntities:N0} entities: 80 % sessions, 10 % PRs, 6 % checks, 4 % review threads, created then updated in turn), 40 % to 20 other projects (40,000 sessions), " +
                $"while the hub runs (its ticker folds each tick into eventhub_state); no manual ANALYZE; then a writer at {o.StateWriterRate}/s (session_updated of existing sessions, one transaction each) " +
                $"and one transaction holding an xid (pg_current_xact_id()) from 5 s before the first request to after the last; 1 + {o.StateRequests} sequential GET /api/v1/state?project={StateProject} " +
                "(HttpClient, time to the full body; the first reported apart)" +
                (o.StateWayRounds > 0 ? $"; then {o.StateWayRounds} rounds (after one not counted) of the state fetched each way in turn (HTTP, the .NET client over JSON and MessagePack, GetState in one message over both), under the same writer and open transaction" : "");
    }

    /// <summary>Starts the hub, or restarts it so that a measurement begins from a fresh process.</summary>
    private async Task StartHubAsync()
    {
        if (_hub is not null) await _hub.DisposeAsync();
        var hubDll = HubDll();
        Log("starting the hub (Release) as a separate process");
        _hub = await ServerProcess.StartAsync("hub", hubDll, [],
            new() { ["ConnectionStrings__EventHub"] = new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { Pooling = true }.ConnectionString },
            "/readyz", Path.GetDirectoryName(hubDll)!);
        Log($"hub pid {_hub.Pid} at {_hub.BaseUri}");
    }

    private string HubDll() => o.HubDll ?? Path.Combine(o.RepoRoot, "Hub", "bin", "Release", "net10.0", "EventHub.Hub.dll");

    private static long OpenFileLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3], CultureInfo.InvariantCulture);
        return 0;
    }

    private string GitHead()
    {
        try
        {
            var p = Process.Start(new ProcessStartInfo("git", ["-C", o.RepoRoot, "rev-parse", "--short", "HEAD"]) { RedirectStandardOutput = true })!;
            var head = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return head;
        }
        catch (Exception) { return "?"; }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return (T)Convert.ChangeType((await cmd.ExecuteScalarAsync())!, typeof(T), CultureInfo.InvariantCulture);
    }

    private static async Task ExecAsync(NpgsqlDataSource db, string sql, int timeoutSeconds = 600)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = timeoutSeconds };
        await cmd.ExecuteNonQueryAsync();
    }

    private static string Name(Transport t) => t switch
    {
        Transport.Sse => "SSE", Transport.SignalRJson => "SignalR JSON", _ => "SignalR MessagePack",
    };

    private async Task<ServerProcess> StartBaselineAsync()
    {
        var dll = typeof(BenchRun).Assembly.Location;
        var cs = new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { Username = "bench_baseline", Password = "bench", ApplicationName = "baseline" };
        return await ServerProcess.StartAsync("baseline", dll, ["--baseline-server"],
            new() { ["ConnectionStrings__EventHub"] = cs.ConnectionString }, "/healthz", Path.GetDirectoryName(dll)!);
    }

    /// <summary>Writes warm-up events (no cell) until every client has seen one: all are then live.</summary>
    private async Task<int> WarmUpAsync(List<BenchClient> clients)
    {
        var before = clients.Select(c => c.Count).ToArray();
        for (var i = 0; i < 60; i++)
        {
            await _writer.RunAsync(1, TimeSpan.FromSeconds(0.1), 0, 1);
            await Task.Delay(300);
            var missing = clients.Where((c, k) => c.Count == before[k]).Count();
            if (missing == 0) return 0;
            if (i == 59) return missing;
        }
        return -1;
    }

    private async Task<long> WaitIdleAsync(ServerProcess server, double maxSeconds)
    {
        // Until the server uses less than IdleCpuShare of a core over half a second (6 %; 12 % in a
        // comparison run, where the tick core's ticker keeps looking every 50 ms when idle) (bounded).
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < maxSeconds)
        {
            var a = server.CpuSeconds();
            await Task.Delay(500);
            if (server.CpuSeconds() - a < o.IdleCpuShare / 2) break;
        }
        return sw.ElapsedMilliseconds;
    }
}
