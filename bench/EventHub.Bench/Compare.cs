using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace EventHub.Bench;

/// <summary>One hub build of a comparison run: its dll, its own database in the shared cluster, its hub process.</summary>
public sealed class HubBuild(string label, string dll, string commit, string database)
{
    public string Label { get; } = label;
    public string Dll { get; } = dll;
    public string Commit { get; } = commit;
    public string Database { get; } = database;
    public ServerProcess Hub { get; set; } = null!;
    public NpgsqlDataSource Admin { get; set; } = null!;
    public NpgsqlDataSource WriterDb { get; set; } = null!;
    public Writer Writer { get; set; } = null!;
}

public sealed record SectionLoad(string Section, string Build, double[] Start, double[] End, double Seconds);
public sealed record WriteCostRound(string Build, int Round, string Table, bool Trigger, double Seconds, long Inserts, double InsertsPerSecond, double HubCpuSeconds,
    double WriterSessionsCpuSeconds = 0, double HubSessionsCpuSeconds = 0, long WalBytes = 0);
/// <summary>Plain: the trigger table's twin with its foreign key; NoFk: without it (the baseline of older results).</summary>
public sealed record WriteCostSummary(string Build, string Configuration, double PlainMedian, double TriggerMedian, double CostPercent, double CostPercentMin, double CostPercentMax, int Rounds,
    double NoFkMedian = 0, double CostPercentNoFk = 0);
public sealed record CompareLatency(string Build, string Case, int LogRows, LatencyCell Cell, string Note);
public sealed record OpensResult(string Build, int Requested, int Opened, int Failed, double P50Ms, double P99Ms, double MaxMs, int Live, double HubCpuSeconds);

public sealed class CompareResults
{
    public List<string> Builds { get; set; } = [];
    public Dictionary<string, string> BuildDetails { get; set; } = [];
    public List<SectionLoad> Loads { get; set; } = [];
    public List<WriteCostRound> WriteCostRounds { get; set; } = [];
    public List<WriteCostSummary> WriteCost { get; set; } = [];
    public List<CompareLatency> Latency { get; set; } = [];
    public List<CompareLatency> Stall { get; set; } = [];
    public List<CatchUpResult> CatchUp { get; set; } = [];
    public List<OpensResult> Opens { get; set; } = [];
    public Dictionary<string, long> Ticks { get; set; } = [];
    /// <summary>Per latency cell ("build: case"): the statements of that database with the most execution time (pg_stat_statements).</summary>
    public Dictionary<string, List<string>> TopStatements { get; set; } = [];
}

/// <summary>
/// Comparison run (<c>--compare-dll</c>): two hub builds, each against a fresh database of its own in
/// one private cluster (each applies its own schema), measured in one run on the same machine. The
/// figures are issue 13's: write cost, SSE latency on a fresh and on a 500,000-row analyzed log, no
/// stall behind long transactions, catch-up, and opens.
/// </summary>
public sealed partial class BenchRun
{
    private readonly List<HubBuild> _builds = [];
    private CompareResults Cmp => _r.Comparison!;

    private static readonly string[] CompareSections = ["latency", "opens", "stall", "writecost", "loglatency", "reallatency", "catchup"];

    private async Task CompareAsync()
    {
        _r.Comparison = new CompareResults();
        // The build compared against first, so that each section measures old, then new.
        _builds.Add(new HubBuild(o.CompareLabel, o.CompareDll!, o.CompareCommit, "eh_compare"));
        _builds.Add(new HubBuild(o.HubLabel, HubDll(), GitHead(), "eh_hub"));
        foreach (var b in _builds)
        {
            Cmp.Builds.Add(b.Label);
            Cmp.BuildDetails[b.Label] = $"{b.Dll} (commit {b.Commit}), database {b.Database}";
            _r.Versions[$"hub '{b.Label}'"] = $"commit {b.Commit}";
        }
        var sections = o.SectionsGiven ? o.Sections : [.. CompareSections];
        o.IdleCpuShare = 0.12;

        await _pg.CreateDatabaseAsync("other_db");
        foreach (var b in _builds)
        {
            await _pg.CreateDatabaseAsync(b.Database);
            var cs = new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { Database = b.Database };
            Log($"[{b.Label}] starting hub {b.Dll} on database {b.Database}");
            b.Hub = await ServerProcess.StartAsync(b.Label, b.Dll, [],
                new() { ["ConnectionStrings__EventHub"] = new NpgsqlConnectionStringBuilder(cs.ConnectionString) { Pooling = true }.ConnectionString },
                "/readyz", Path.GetDirectoryName(b.Dll)!);
            Log($"[{b.Label}] hub pid {b.Hub.Pid} at {b.Hub.BaseUri}");
            b.Admin = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(cs.ConnectionString) { MaxPoolSize = 20 }.ConnectionString).Build();
            b.WriterDb = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(cs.ConnectionString)
            { Username = "bench_writer", Password = "bench", MaxPoolSize = 32, ApplicationName = "bench-writer" }.ConnectionString).Build();
            await BenchSchema.ApplyAsync(b.Admin, o.PayloadNoteLength);
            b.Writer = new Writer(b.WriterDb, _timeline, BenchSchema.Note(o.PayloadNoteLength));
            await b.Writer.RunAsync(10, TimeSpan.FromSeconds(0.5), 0, 2);
            var wake = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM pg_trigger WHERE tgname = 'change_log_wake'");
            var ticks = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM pg_class WHERE relname = 'eventhub_tick'");
            Cmp.BuildDetails[b.Label] += $"; NOTIFY trigger change_log_wake: {(wake > 0 ? "present" : "absent")}; ticker table: {(ticks > 0 ? "present" : "absent")}";
        }
        _r.Parameters["comparison"] = $"builds {string.Join(" and ", _builds.Select(b => b.Label))}, each with its own fresh database in one cluster; both hubs run for the whole run (the one not measured is idle)";
        _r.Parameters["compareLatency"] = $"100 SSE subscribers of project bench x 100 events/s, {o.CompareCellSeconds} s per cell after an unmeasured {o.CompareWarmUpSeconds} s at the same rate in the same open loop (no pause between them), drain up to {o.DrainSeconds} s";
        _r.Parameters["compareLog"] = $"{o.CompareLogRows:N0} rows inserted into change_log directly (INSERT ... SELECT generate_series, {o.CompareLogBatch:N0} per transaction, one transaction after the other while the hub runs), then VACUUM ANALYZE of the database and a CHECKPOINT";
        _r.Parameters["compareRealLatency"] = $"as users meet it: the {o.CompareLogRows:N0}-row analyzed log grown by {o.CompareRealRows:N0} more rows the same way but with no ANALYZE by hand (statistics as autovacuum leaves them; a CHECKPOINT still), then the latency cell while a transaction holds an xid in the hub's database and one in another database of the cluster, both open from before the clients connect until the cell has drained";
        _r.Parameters["compareStall"] = $"writer at 50 events/s for {o.StallSeconds + 8} s, 10 SSE subscribers; from 2 s in, one transaction holding an xid (pg_current_xact_id()) in the hub's database and one in another database of the cluster, both open {o.StallSeconds} s";
        _r.Parameters["compareWriteCost"] = $"{o.CompareRounds} rounds; each round measures both builds (order alternating), plain table then trigger table (order alternating), 8 writers, {o.WriteCostSeconds} s each, single-row autocommit INSERTs, synchronous_commit on; medians over the rounds";
        _r.Parameters["compareOpens"] = $"{o.Opens:N0} SSE requests of project bench without an offset (from now) started at once; time from the start to each response's headers";
        _r.Parameters["compareCatchUp"] = $"one SSE client from offset 0 over a {o.CatchUpEvents:N0}-event log (the {o.CompareLogRows:N0}-row log extended the same way, VACUUM ANALYZE), cap {o.CatchUpOneCapSeconds} s; then again while the writer commits {o.CatchUpWriteRate:N0} events/s (4 connections) and a transaction holds an xid for the whole read; two passes per build once both logs are grown, in the order A B B A (the build measured second read faster), the summary giving each build's mean";

        if (sections.Contains("latency"))
            foreach (var b in _builds) await Section("latency (fresh)", b, () => LatencyCaseAsync(b, FreshCase));
        if (sections.Contains("opens"))
            foreach (var b in _builds) await Section("opens", b, () => OpensAsync(b));
        if (sections.Contains("stall"))
            foreach (var b in _builds) await Section("no stall", b, () => StallAsync(b));
        if (sections.Contains("writecost"))
            await Section("write cost", null, CompareWriteCostAsync);
        if (sections.Contains("loglatency") || sections.Contains("reallatency") || sections.Contains("catchup"))
            foreach (var b in _builds)
            {
                await Section($"log of {o.CompareLogRows:N0} rows", b, () => GrowLogAsync(b, o.CompareLogRows));
                if (sections.Contains("loglatency"))
                    await Section("latency (large log)", b, () => LatencyCaseAsync(b, AnalyzedLogCase));
                if (sections.Contains("reallatency"))
                {
                    var rows = o.CompareLogRows + o.CompareRealRows;
                    await Section($"log of {rows:N0} rows, no ANALYZE", b, () => GrowLogAsync(b, rows, analyze: false));
                    await Section("latency (as users meet it)", b, () => LatencyCaseAsync(b, RealCase, holdXids: true));
                }
                if (sections.Contains("catchup"))
                    await Section($"log of {o.CatchUpEvents:N0} rows", b, () => GrowLogAsync(b, o.CatchUpEvents));
            }
        if (sections.Contains("catchup"))
        {
            // Two passes per build, in the order A B B A: measured once each, the build read second
            // won by 7-30 % of the hub's CPU for the same million events in both orders
            // (bench/results/2026-12-04-catchup-profile.md), so a single pass per build measured the
            // order as much as the builds. The summary takes each build's mean over its passes.
            var pass = 0;
            foreach (var b in (HubBuild[])[.. _builds, .. Enumerable.Reverse(_builds)])
            {
                var n = ++pass;
                await Section($"catch-up, pass {n}", b, () => CompareCatchUpAsync(b, n));
            }
        }
        foreach (var b in _builds)
            if (await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM pg_class WHERE relname = 'eventhub_tick'") > 0)
                Cmp.Ticks[b.Label] = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM eventhub_tick");
    }

    private async Task Section(string name, HubBuild? b, Func<Task> body)
    {
        var l0 = Machine.LoadAverage();
        var sw = Stopwatch.StartNew();
        Log($"== {name}{(b is null ? "" : " [" + b.Label + "]")}: load {string.Join(" / ", l0)}");
        try { await body(); }
        finally
        {
            Cmp.Loads.Add(new SectionLoad(name, b?.Label ?? "both", l0, Machine.LoadAverage(), Math.Round(sw.Elapsed.TotalSeconds)));
        }
    }

    /// <summary>Points the shared helpers (warm-up, cells) at one build.</summary>
    private void Use(HubBuild b)
    {
        _hub = b.Hub;
        _admin = b.Admin;
        _writerDb = b.WriterDb;
        _writer = b.Writer;
    }

    private string AnalyzedLogCase => $"{AnalyzedLogCasePrefix} {o.CompareLogRows:N0}-row analyzed log";
    /// <summary>The latency cases' names, as the report finds them (CompareReport).</summary>
    internal const string FreshCase = "fresh database", AnalyzedLogCasePrefix = "after a", RealCase = "as users meet it";

    private async Task LatencyCaseAsync(HubBuild b, string caseName, bool holdXids = false)
    {
        Use(b);
        await WaitIdleAsync(b.Hub, 30);
        var rows = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM change_log");
        // "As users meet it" (DEVELOPERS.md, "Measure what users will meet"): the log's statistics
        // are whatever autovacuum left (said in the note), and two transactions hold xids for the
        // whole cell, one here and one in another database of the cluster.
        var held = holdXids ? await HeldXids.BeginAsync(b.Admin, _pg.ConnectionString) : null;
        try
        {
            var before = holdXids ? await LogStatisticsAsync(b) : "";
            // The statistics once more after the cell: whether autovacuum analyzed the log meanwhile
            // (its worker shares the cores with the cell), as it does for a real deployment.
            await LatencyCellAsync(b, caseName, rows, held is null ? null
                : async () => $"before the cell: {before}; after it: {await LogStatisticsAsync(b)}; xids held: {held.Xids}");
        }
        finally
        {
            if (held is not null) await held.DisposeAsync();
        }
    }

    /// <summary>What the planner knows of change_log: its estimate, and when it was last analyzed and by whom.</summary>
    private static async Task<string> LogStatisticsAsync(HubBuild b)
    {
        await using var c = await b.Admin.OpenConnectionAsync();
        await using var q = new NpgsqlCommand("""
            SELECT format('planner estimate %s rows, %s rows modified since the last ANALYZE (by hand %s, by autovacuum %s)',
                          c.reltuples::bigint, s.n_mod_since_analyze,
                          coalesce(to_char(s.last_analyze, 'HH24:MI:SS'), 'never'),
                          coalesce(to_char(s.last_autoanalyze, 'HH24:MI:SS'), 'never'))
            FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'change_log'
            """, c);
        return (string)(await q.ExecuteScalarAsync())!;
    }

    private async Task LatencyCellAsync(HubBuild b, string caseName, long rows, Func<Task<string>>? note)
    {
        var (clients, failed) = await ClientFactory.OpenAsync(b.Hub.BaseUri, Transport.Sse, 100, BenchSchema.Project, null);
        try
        {
            foreach (var c in clients) c.OnEvent = _timeline.OnReceived;
            var notLive = await WarmUpAsync(clients);
            var seconds = o.CellSeconds;
            LatencyCell cell;
            try
            {
                // An unmeasured warm-up at the same rate first (2 s unless --compare-warmup-seconds): the first measured cell of every run
                // showed p99 near 95 ms whichever build it measured (code paths of the hub and of
                // these clients running for the first time), and the order of the builds decided
                // which one paid it.
                // The statements' counters are reset before the warm-up: right after a reset every
                // statement of the cluster stores a new entry under the extension's exclusive lock.
                // The warm-up flows into the cell without a pause (RunCellAsync).
                await ExecAsync(b.Admin, "SELECT pg_stat_statements_reset()");
                o.CellSeconds = o.CompareCellSeconds;
                cell = await RunCellAsync(b.Label, b.Hub, Transport.Sse, 100, clients, 100, o.CompareWarmUpSeconds);
            }
            finally { o.CellSeconds = seconds; }
            Cmp.TopStatements[$"{b.Label}: {caseName}"] = await TopStatementsAsync(b);
            var noted = note is null ? "" : await note();
            Cmp.Latency.Add(new CompareLatency(b.Label, caseName, (int)rows, cell,
                string.Join("; ", new[] { failed > 0 ? $"{failed} failed to connect" : "", notLive != 0 ? $"{notLive} saw no warm-up event" : "", noted }
                    .Where(x => x.Length > 0))));
            Log($"  [{b.Label}] {caseName} ({rows:N0} rows): p50 {cell.P50Ms:F1} ms, p99 {cell.P99Ms:F1} ms, max {cell.MaxMs:F1} ms, lost {cell.Lost}");
        }
        finally { await ClientFactory.CloseAsync(clients); }
    }

    private async Task OpensAsync(HubBuild b)
    {
        Use(b);
        await WaitIdleAsync(b.Hub, 20);
        var h = new Histogram();
        var clients = new ConcurrentBag<BenchClient>();
        var failed = 0;
        var cpu0 = b.Hub.CpuSeconds();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(0, o.Opens).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                var c = await SseClient.ConnectAsync(b.Hub.BaseUri, "?project=" + BenchSchema.Project);
                h.Record(Timeline.Micros(Stopwatch.GetTimestamp() - t0));
                clients.Add(c);
            }
            catch (Exception) { Interlocked.Increment(ref failed); }
        })).ToList();
        await Task.Delay(200);
        start.SetResult();
        await Task.WhenAll(tasks);
        var cpu = b.Hub.CpuSeconds() - cpu0;
        try
        {
            // Each opened stream must be a live subscription: one event reaches all of them.
            var list = clients.ToList();
            var notLive = await WarmUpAsync(list);
            var result = new OpensResult(b.Label, o.Opens, list.Count, failed, h.Percentile(50) / 1000.0, h.Percentile(99) / 1000.0,
                h.Max / 1000.0, list.Count - Math.Max(0, notLive), Math.Round(cpu, 2));
            Cmp.Opens.Add(result);
            Log($"  [{b.Label}] {o.Opens} opens: headers p50 {result.P50Ms:F1} ms, p99 {result.P99Ms:F1} ms, max {result.MaxMs:F1} ms; failed {failed}, live {result.Live}");
        }
        finally { await ClientFactory.CloseAsync(clients); }
    }

    private async Task StallAsync(HubBuild b)
    {
        Use(b);
        await WaitIdleAsync(b.Hub, 20);
        var (clients, _) = await ClientFactory.OpenAsync(b.Hub.BaseUri, Transport.Sse, 10, BenchSchema.Project, null);
        try
        {
            foreach (var c in clients) c.OnEvent = _timeline.OnReceived;
            await WarmUpAsync(clients);
            var stats = new CellStats();
            var id = _timeline.NewCell(stats);
            var cpu0 = b.Hub.CpuSeconds();
            var t0 = Stopwatch.GetTimestamp();
            var writing = b.Writer.RunAsync(50, TimeSpan.FromSeconds(o.StallSeconds + 8), id, 4);
            await Task.Delay(2000);
            string xids;
            await using (var held = await HeldXids.BeginAsync(b.Admin, _pg.ConnectionString))
            {
                xids = held.Xids;
                Log($"  [{b.Label}] holding xids ({xids}) for {o.StallSeconds} s");
                await Task.Delay(TimeSpan.FromSeconds(o.StallSeconds));
            }
            var write = await writing;
            var expected = write.Written * clients.Count;
            var drainUntil = Stopwatch.GetTimestamp() + (long)(o.DrainSeconds * Stopwatch.Frequency);
            while (stats.Received < expected && Stopwatch.GetTimestamp() < drainUntil) await Task.Delay(20);
            _timeline.ResolveEarly();
            var wall = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
            var hubCpu = b.Hub.CpuSeconds() - cpu0;
            var received = stats.Received;
            var cell = new LatencyCell(b.Label, "SSE", 10, clients.Count, 50, Math.Round(write.Written / (o.StallSeconds + 8.0), 1),
                write.Written, expected, received, expected - received, received >= expected,
                stats.Latency.Percentile(50) / 1000.0, stats.Latency.Percentile(99) / 1000.0, stats.Latency.Max / 1000.0,
                Math.Round(received / wall), Math.Round(hubCpu, 2), hubCpu > 0 ? Math.Round(received / hubCpu) : 0, Math.Round(wall, 2), 0);
            Cmp.Stall.Add(new CompareLatency(b.Label, $"xids held {o.StallSeconds} s (same database + other database)", 0, cell, xids));
            Log($"  [{b.Label}] stall: p50 {cell.P50Ms:F1} ms, p99 {cell.P99Ms:F1} ms, max {cell.MaxMs:F1} ms, lost {cell.Lost}");
        }
        finally { await ClientFactory.CloseAsync(clients); }
    }

    private async Task CompareWriteCostAsync()
    {
        for (var round = 1; round <= o.CompareRounds; round++)
        {
            var order = round % 2 == 1 ? _builds : Enumerable.Reverse(_builds).ToList();
            foreach (var b in order)
            {
                Use(b);
                // The baseline has the trigger table's foreign key (Env.cs); the table without it is
                // measured too, the baseline of results before 2026-12-02-fk-baseline.
                var tables = (round + (b == _builds[0] ? 0 : 1)) % 2 == 1
                    ? new[] { ("bench_pr_plain", false), ("bench_pr", true), ("bench_pr_nofk", false) }
                    : new[] { ("bench_pr_nofk", false), ("bench_pr", true), ("bench_pr_plain", false) };
                foreach (var (table, trigger) in tables)
                {
                    await WaitIdleAsync(b.Hub, 5);
                    var r = await WriteCostAsync(table, trigger, "on");
                    Cmp.WriteCostRounds.Add(new WriteCostRound(b.Label, round, table, trigger, r.Seconds, r.Inserts, r.InsertsPerSecond, r.HubCpuSeconds,
                        r.WriterSessionsCpuSeconds, r.HubSessionsCpuSeconds, r.WalBytes));
                    Log($"  round {round} [{b.Label}] {table}: {r.InsertsPerSecond:F0} inserts/s (hub CPU {r.HubCpuSeconds:F2} s)");
                }
            }
        }
        foreach (var b in _builds)
        {
            var rounds = Cmp.WriteCostRounds.Where(w => w.Build == b.Label).ToList();
            var plain = Median(rounds.Where(w => w.Table == "bench_pr_plain").Select(w => w.InsertsPerSecond));
            var noFk = Median(rounds.Where(w => w.Table == "bench_pr_nofk").Select(w => w.InsertsPerSecond));
            var trig = Median(rounds.Where(w => w.Trigger).Select(w => w.InsertsPerSecond));
            var perRound = rounds.GroupBy(w => w.Round)
                .Select(g => 100 * (1 - g.First(w => w.Trigger).InsertsPerSecond / g.First(w => w.Table == "bench_pr_plain").InsertsPerSecond)).ToList();
            var wake = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM pg_trigger WHERE tgname = 'change_log_wake' AND tgenabled <> 'D'");
            Cmp.WriteCost.Add(new WriteCostSummary(b.Label,
                wake > 0 ? "default: change_log trigger + NOTIFY trigger change_log_wake" : "default: change_log trigger, no NOTIFY trigger, hub ticker running",
                plain, trig, Math.Round(100 * (1 - trig / plain), 1), Math.Round(perRound.Min(), 1), Math.Round(perRound.Max(), 1), o.CompareRounds,
                noFk, Math.Round(100 * (1 - trig / noFk), 1)));
        }
    }

    private static async Task<List<string>> TopStatementsAsync(HubBuild b)
    {
        var top = new List<string>();
        await using var c = await b.Admin.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT s.calls, s.mean_exec_time, s.total_exec_time, r.rolname, left(regexp_replace(s.query, '\s+', ' ', 'g'), 160), s.max_exec_time
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
            WHERE d.datname = current_database() AND s.query NOT ILIKE '%pg_stat_statements%'
            ORDER BY s.total_exec_time DESC LIMIT 5
            """, c);
        await using var rd = await cmd.ExecuteReaderAsync();
        while (await rd.ReadAsync())
            top.Add(string.Create(CultureInfo.InvariantCulture,
                $"{rd.GetInt64(0):N0} calls, mean {rd.GetDouble(1):F2} ms, max {rd.GetDouble(5):F1} ms, total {rd.GetDouble(2):F0} ms ({rd.GetString(3)}): `{rd.GetString(4).Replace("`", "'").Replace("|", "/")}`"));
        return top;
    }

    internal static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToArray();
        if (v.Length == 0) return 0;
        return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
    }

    /// <summary>
    /// Grows change_log to <paramref name="target"/> rows: INSERT ... SELECT generate_series in
    /// transactions of <c>CompareLogBatch</c> rows, one after the other while the hub runs (the new
    /// core's ticker makes ticks between them), then VACUUM ANALYZE of the database.
    /// </summary>
    private async Task GrowLogAsync(HubBuild b, long target, bool analyze = true)
    {
        Use(b);
        var existing = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM change_log");
        var toInsert = Math.Max(0, target - existing);
        var note = BenchSchema.Note(o.PayloadNoteLength);
        var sw = Stopwatch.StartNew();
        await using (var c = await b.Admin.OpenConnectionAsync())
        {
            for (long done = 0; done < toInsert; done += o.CompareLogBatch)
            {
                var n = Math.Min(o.CompareLogBatch, toInsert - done);
                await using var cmd = new NpgsqlCommand($"""
                    INSERT INTO change_log (project_id, session_id, event_type, payload)
                    SELECT '{BenchSchema.Project}', '{BenchSchema.Session}', 'pr_updated',
                           jsonb_build_object('url', 'https://git.example/bench/pull/l' || g, 'session', '{BenchSchema.Session}',
                                              'state', 'open', 'ci', 'passing', 'review', 'none', 'mergeable', 'mergeable', 'note', '{note}')
                    FROM generate_series(1, {n}) g
                    """, c) { CommandTimeout = 600 };
                await cmd.ExecuteNonQueryAsync();
            }
        }
        Log($"  [{b.Label}] inserted {toInsert:N0} rows in {sw.Elapsed.TotalSeconds:F1} s; waiting for the hub to go idle");
        await WaitIdleAsync(b.Hub, 120);
        await WaitStateFoldedAsync(b);
        if (analyze) await ExecAsync(b.Admin, "VACUUM ANALYZE", 1200);
        // The load leaves hundreds of MB of dirty pages; the kernel wrote them back during the next
        // cell and stalled the WAL's fsyncs there (writers' COMMITs of 56-201 ms, and every event
        // waits for its tick's commit: 2026-12-04-slowest-events.md). A checkpoint writes them now.
        await ExecAsync(b.Admin, "CHECKPOINT", 600);
        await WaitIdleAsync(b.Hub, 30);
        var total = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM change_log");
        var ticks = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM pg_class WHERE relname = 'eventhub_tick'") > 0
            ? await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM eventhub_tick") : -1;
        Log($"  [{b.Label}] change_log holds {total:N0} rows" + (ticks >= 0 ? $" in {ticks:N0} ticks" : "") + $" ({sw.Elapsed.TotalSeconds:F0} s{(analyze ? " with VACUUM ANALYZE" : ", no ANALYZE")})");
    }

    /// <summary>
    /// Since migration 0020 a tick above 10,000 rows (and the ticks after it while the state is
    /// behind) is folded into the live state in the background, after the tick: the hub's process
    /// is idle while one of its database sessions still folds the load. A build before it folded
    /// inside the ticks, during the load. So both builds' measurements start with the state folded
    /// (how long that took is logged); a build without the mark has nothing to wait for.
    /// </summary>
    private async Task WaitStateFoldedAsync(HubBuild b)
    {
        const string hasMark = "SELECT count(*) FROM information_schema.columns WHERE table_name = 'eventhub_state_ready' AND column_name = 'through_tick'";
        if (await ScalarAsync<long>(b.Admin, hasMark) == 0) return;
        var sw = Stopwatch.StartNew();
        const string behind = "SELECT count(*) FROM eventhub_state_ready r WHERE r.through_tick < (SELECT max(tick_id) FROM eventhub_tick)";
        while (sw.Elapsed.TotalSeconds < 600 && await ScalarAsync<long>(b.Admin, behind) > 0)
            await Task.Delay(250);
        Log($"  [{b.Label}] the live state was folded {sw.Elapsed.TotalSeconds:F1} s after the hub went idle");
    }

    private async Task CompareCatchUpAsync(HubBuild b, int pass)
    {
        Use(b);
        var total = await ScalarAsync<long>(b.Admin, "SELECT count(*) FROM change_log");
        await CatchUpAsync(b.Label, b.Hub, Transport.Sse, 1, total, o.CatchUpOneCapSeconds);
        Cmp.CatchUp.Add(_r.CatchUp[^1] with { Pass = pass });
        _r.CatchUp.RemoveAt(_r.CatchUp.Count - 1);

        // Again as users meet it: writers keep committing (each commit wakes the ticker's fast looks,
        // which share the cores with the catch-up) and a transaction holds an xid for the whole read.
        await WaitIdleAsync(b.Hub, 30);
        await using var held = await b.Admin.OpenConnectionAsync();
        await using var tx = await held.BeginTransactionAsync();
        await using (var q = new NpgsqlCommand("SELECT pg_current_xact_id()", held, tx)) await q.ExecuteScalarAsync();
        using var stopWriting = new CancellationTokenSource();
        var writing = b.Writer.RunAsync(o.CatchUpWriteRate, TimeSpan.FromSeconds(o.CatchUpOneCapSeconds + 5), 0, 4, stopWriting.Token);
        try
        {
            await Task.Delay(2000); // the writers' pace (and the ticker's) settles before the read starts
            await CatchUpAsync(b.Label, b.Hub, Transport.Sse, 1, total, o.CatchUpOneCapSeconds,
                $"writers at {o.CatchUpWriteRate:N0}/s, an xid held");
            Cmp.CatchUp.Add(_r.CatchUp[^1] with { Pass = pass });
            _r.CatchUp.RemoveAt(_r.CatchUp.Count - 1);
        }
        finally
        {
            await stopWriting.CancelAsync();
            try { await writing; } catch (OperationCanceledException) { }
            await tx.RollbackAsync();
        }
    }
}
