using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace EventHub.Bench;

public sealed partial class BenchRun
{
    // ---------------------------------------------------------------- latency and fan-out

    private async Task LatencySectionAsync()
    {
        if (o.LatencyRestartHub)
        {
            // A fresh hub for a warm bench: the first grid pays this process's own first runs.
            foreach (var t in o.Transports) await LatencyGridAsync("EventHub", _hub, t);
            await StartHubAsync();
        }
        foreach (var t in o.Transports)
            await LatencyGridAsync("EventHub", _hub, t);
        if (o.Baseline && o.Transports.Contains(Transport.Sse))
        {
            await using var baseline = await StartBaselineAsync();
            await LatencyGridAsync("baseline", baseline, Transport.Sse);
        }
    }

    private async Task LatencyGridAsync(string serverName, ServerProcess server, Transport transport)
    {
        foreach (var n in o.Subscribers)
        {
            Log($"{serverName} {Name(transport)}: opening {n} subscribers");
            var (clients, failed) = await ClientFactory.OpenAsync(server.BaseUri, transport, n, BenchSchema.Project, null);
            try
            {
                if (failed > 0) Log($"  {failed} failed to connect");
                foreach (var c in clients) c.OnEvent = _timeline.OnReceived;
                var notLive = await WarmUpAsync(clients);
                if (notLive != 0) Log($"  {notLive} clients saw no warm-up event");
                foreach (var rate in o.Rates)
                {
                    var cell = await RunCellAsync(serverName, server, transport, n, clients, rate);
                    _r.Latency.Add(cell);
                    Log($"  {n} x {rate}/s: achieved {cell.AchievedRate:F0}/s, p50 {cell.P50Ms:F1} ms, p99 {cell.P99Ms:F1} ms, max {cell.MaxMs:F1} ms, " +
                        $"{cell.DeliveriesPerSecond:F0} deliveries/s, lost {cell.Lost}, {cell.DeliveriesPerCpuSecond:F0}/hub CPU-s");
                    if (!cell.Drained && rate != o.Rates[^1])
                    {
                        // The backlog would leak into the next cell: start it with fresh subscribers.
                        Log("  not drained: reconnecting the subscribers");
                        await ClientFactory.CloseAsync(clients);
                        await WaitIdleAsync(server, 30);
                        (clients, failed) = await ClientFactory.OpenAsync(server.BaseUri, transport, n, BenchSchema.Project, null);
                        foreach (var c in clients) c.OnEvent = _timeline.OnReceived;
                        await WarmUpAsync(clients);
                    }
                }
            }
            finally
            {
                await ClientFactory.CloseAsync(clients);
            }
            await WaitIdleAsync(server, 20);
        }
    }

    private async Task<LatencyCell> RunCellAsync(string serverName, ServerProcess server, Transport transport, int n,
        List<BenchClient> clients, int rate, double warmUpSeconds = 0)
    {
        var stats = new CellStats();
        var id = _timeline.NewCell(stats);
        // A warm-up runs in the same open loop as the cell, without a pause between them: after a
        // pause of ~0.1-0.5 s (the warm-up's drain, the counters read) the cell's first ~10 events
        // were its slowest (COMMITs of 11-21 ms at +0.1 s), 1 % of a cell's events: p99 itself.
        var warmUpEvents = (long)Math.Round(rate * warmUpSeconds);
        // The counters are read before the writer starts: a hub's first /metrics request compiles
        // ~400 methods of the exporter (stop 49: 1,000+ methods a second compiled as the load began),
        // and read during the load it delayed the cell's first events. After a warm-up, read again.
        var hubGcBefore = await server.GcTotalsAsync();
        var checkpointsBefore = await CheckpointsAsync();
        var writerStart = Stopwatch.GetTimestamp();
        var writing = _writer.RunAsync(rate, TimeSpan.FromSeconds(o.CellSeconds), id, rate >= 500 ? 8 : 4,
            warmUpEvents: warmUpEvents, warmUpCell: warmUpEvents > 0 ? _timeline.NewCell(new CellStats()) : 0);
        if (warmUpEvents > 0) await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, warmUpSeconds - 0.03)));
        var benchCpu0 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var benchPause0 = GC.GetTotalPauseDuration();
        var hubGc0 = warmUpEvents > 0 ? await server.GcTotalsAsync() : hubGcBefore;
        var checkpoints0 = warmUpEvents > 0 ? await CheckpointsAsync() : checkpointsBefore;
        var cpu0 = server.CpuSeconds();
        var t0 = writerStart + (long)(warmUpSeconds * Stopwatch.Frequency);
        var write = await writing;
        var expected = write.Written * clients.Count;
        var drainUntil = Stopwatch.GetTimestamp() + (long)(o.DrainSeconds * Stopwatch.Frequency);
        while (stats.Received < expected && Stopwatch.GetTimestamp() < drainUntil) await Task.Delay(20);
        var t1 = Stopwatch.GetTimestamp();
        var cpu1 = server.CpuSeconds();
        var benchCpu1 = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        var benchPause = (GC.GetTotalPauseDuration() - benchPause0).TotalMilliseconds;
        var hubGc = GcTotals.Describe(hubGc0, await server.GcTotalsAsync());
        var checkpoints1 = await CheckpointsAsync();
        var checkpoints = $"{checkpoints1.Count - checkpoints0.Count} ({checkpoints1.Buffers - checkpoints0.Buffers:N0} buffers)";
        _timeline.ResolveEarly();
        var (first, spread, slowest) = _timeline.EventStats(id);
        // Offsets from the cell's start and wall-clock times (UTC, the cluster log's clock) of its slowest events.
        var wallAtT0 = DateTime.UtcNow - Stopwatch.GetElapsedTime(t0);
        double FromT0(long timestamp) => (timestamp - t0) / (double)Stopwatch.Frequency;
        var slowestText = string.Join("; ", slowest.Select(e => string.Create(CultureInfo.InvariantCulture,
            $"{e.Micros / 1000.0:F1} ms at +{FromT0(e.Commit):F2} s ({wallAtT0.AddSeconds(FromT0(e.Commit)):HH:mm:ss.fff}Z)")))
            + string.Create(CultureInfo.InvariantCulture, $"; slowest COMMIT {write.SlowestCommitMs:F1} ms, returned at +{FromT0(write.SlowestCommitAt):F2} s");
        var wall = (t1 - t0) / (double)Stopwatch.Frequency;
        var received = stats.Received;
        var hubCpu = cpu1 - cpu0;
        return new LatencyCell(serverName, Name(transport), n, clients.Count, rate,
            Math.Round(write.Written / o.CellSeconds, 1), write.Written, expected, received, expected - received,
            received >= expected,
            stats.Latency.Percentile(50) / 1000.0, stats.Latency.Percentile(99) / 1000.0, stats.Latency.Max / 1000.0,
            Math.Round(received / wall), Math.Round(hubCpu, 2), hubCpu > 0 ? Math.Round(received / hubCpu) : 0,
            Math.Round(wall, 2), Math.Round(benchCpu1 - benchCpu0, 2),
            first.Percentile(50) / 1000.0, first.Percentile(99) / 1000.0, spread.Percentile(50) / 1000.0, spread.Percentile(99) / 1000.0,
            Math.Round(benchPause, 1), hubGc, checkpoints, slowestText);
    }

    /// <summary>The cluster's checkpoints so far (timed and requested) and the buffers they wrote: a checkpoint's writes slow every flush meanwhile.</summary>
    private async Task<(long Count, long Buffers)> CheckpointsAsync()
    {
        await using var c = await _admin.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("SELECT checkpoints_timed + checkpoints_req, buffers_checkpoint FROM pg_stat_bgwriter", c);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetInt64(1));
    }

    // ---------------------------------------------------------------- memory per idle subscriber, database load

    private async Task MemoryAndDbLoadSectionAsync()
    {
        // A fresh hub: after the latency grid's overload cells its heap is grown (Server GC keeps it).
        await StartHubAsync();
        await MemoryAndDbLoadAsync("EventHub", _hub, "postgres");
        if (o.Sections.Contains("memory"))
            await IdleMemoryAsync("EventHub", _hub, Transport.SignalRJson);
        if (o.Baseline)
        {
            await using var baseline = await StartBaselineAsync();
            await MemoryAndDbLoadAsync("baseline", baseline, "bench_baseline");
        }
    }

    private async Task MemoryAndDbLoadAsync(string serverName, ServerProcess server, string role)
    {
        var clients = new List<BenchClient>();
        try
        {
            if (o.Sections.Contains("dbload"))
            {
                var (one, _) = await ClientFactory.OpenAsync(server.BaseUri, Transport.Sse, 1, BenchSchema.Project, null);
                clients.AddRange(one);
                await WarmUpAsync(clients);
                _r.DatabaseLoad.Add(await DbLoadAsync(serverName, role, 1, clients.Count));
                Log($"{serverName}: db load with 1 subscriber: {_r.DatabaseLoad[^1].StatementsPerSecond:F1} statements/s");
                await ClientFactory.CloseAsync(clients);
                clients.Clear();
            }

            // Idle subscribers: a project nobody writes to.
            await WaitIdleAsync(server, 20);
            await Task.Delay(1000);
            var rss0 = server.RssBytes();
            foreach (var n in o.IdleSubscribers.Order())
            {
                var (more, _) = await ClientFactory.OpenAsync(server.BaseUri, Transport.Sse, n - clients.Count, "idle", null);
                clients.AddRange(more);
                await Task.Delay(3000);
                await WaitIdleAsync(server, 10);
                var rss = server.RssBytes();
                if (o.Sections.Contains("memory"))
                {
                    _r.Memory.Add(new MemoryResult(serverName, "SSE", n, clients.Count, rss0, rss, Math.Round((rss - rss0) / (double)Math.Max(1, clients.Count))));
                    Log($"{serverName} SSE: {clients.Count} idle subscribers: RSS {rss0 / 1048576.0:F1} -> {rss / 1048576.0:F1} MiB, {(rss - rss0) / 1024.0 / clients.Count:F1} KiB each");
                }
            }

            if (o.Sections.Contains("dbload"))
            {
                // The same load with the many subscribers listening to the written project.
                var (busy, _) = await ClientFactory.OpenAsync(server.BaseUri, Transport.Sse, Math.Max(0, o.DbLoadSubscribers - clients.Count), BenchSchema.Project, null);
                // Idle ones count as subscribers too (each is a stream the server holds); they add no reads in EventHub.
                clients.AddRange(busy);
                await WarmUpAsync(busy);
                _r.DatabaseLoad.Add(await DbLoadAsync(serverName, role, o.DbLoadSubscribers, clients.Count));
                Log($"{serverName}: db load with {clients.Count} subscribers: {_r.DatabaseLoad[^1].StatementsPerSecond:F1} statements/s");
            }
        }
        finally
        {
            await ClientFactory.CloseAsync(clients);
        }
        await WaitIdleAsync(server, 20);
    }

    private async Task IdleMemoryAsync(string serverName, ServerProcess server, Transport transport)
    {
        var clients = new List<BenchClient>();
        try
        {
            await WaitIdleAsync(server, 20);
            await Task.Delay(1000);
            var rss0 = server.RssBytes();
            foreach (var n in o.IdleSubscribers.Order())
            {
                var (more, _) = await ClientFactory.OpenAsync(server.BaseUri, transport, n - clients.Count, "idle", null);
                clients.AddRange(more);
                await Task.Delay(3000);
                await WaitIdleAsync(server, 10);
                var rss = server.RssBytes();
                _r.Memory.Add(new MemoryResult(serverName, Name(transport), n, clients.Count, rss0, rss, Math.Round((rss - rss0) / (double)Math.Max(1, clients.Count))));
                Log($"{serverName} {Name(transport)}: {clients.Count} idle subscribers: RSS {rss0 / 1048576.0:F1} -> {rss / 1048576.0:F1} MiB, {(rss - rss0) / 1024.0 / clients.Count:F1} KiB each");
            }
        }
        finally
        {
            await ClientFactory.CloseAsync(clients);
        }
        await WaitIdleAsync(server, 20);
    }

    private async Task<DbLoadResult> DbLoadAsync(string serverName, string role, int subscribers, int connected)
    {
        const string Calls = """
            SELECT coalesce(sum(s.calls), 0)::bigint FROM pg_stat_statements s
            JOIN pg_roles r ON r.oid = s.userid JOIN pg_database d ON d.oid = s.dbid
            WHERE r.rolname = '{0}' AND d.datname = current_database() AND s.query NOT ILIKE '%pg_stat%'
            """;
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, Calls, role);
        await ExecAsync(_admin, "SELECT pg_stat_statements_reset()");
        var xact0 = await ScalarAsync<long>(_admin, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()");
        var t0 = Stopwatch.GetTimestamp();
        var write = await _writer.RunAsync(o.DbLoadRate, TimeSpan.FromSeconds(o.DbLoadSeconds), 0, 4);
        var seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        await Task.Delay(600); // statistics are flushed at most once a second per backend when idle
        var statements = await ScalarAsync<long>(_admin, sql);
        var xact1 = await ScalarAsync<long>(_admin, "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()");
        // Transactions of the database minus the writer's own (one per event) and this method's three reads.
        var tx = Math.Max(0, xact1 - xact0 - write.Written - 3);
        return new DbLoadResult(serverName, subscribers, connected, o.DbLoadRate, Math.Round(seconds, 2), statements,
            Math.Round(statements / seconds, 1), tx, Math.Round(tx / seconds, 1));
    }

    // ---------------------------------------------------------------- write-side cost

    private async Task WriteCostSectionAsync()
    {
        // The third variant splits the cost: the same triggers with change_log's statement-level
        // NOTIFY trigger disabled for the run (PostgreSQL serialises the commits of notifying transactions).
        // The core v2 schema (migration 0007) has no NOTIFY trigger: then the trigger variant is the default.
        var wake = await ScalarAsync<long>(_admin, "SELECT count(*) FROM pg_trigger WHERE tgname = 'change_log_wake'") > 0;
        var variants = wake
            ? new[] { ("bench_pr_plain", false, false), ("bench_pr", true, true), ("bench_pr", true, false), ("bench_pr_nofk", false, false) }
            : new[] { ("bench_pr_plain", false, false), ("bench_pr", true, false), ("bench_pr_nofk", false, false) };
        foreach (var sync in new[] { "on", "off" })
            foreach (var (table, triggers, notify) in variants)
            {
                if (wake && !notify && triggers) await ExecAsync(_admin, "ALTER TABLE change_log DISABLE TRIGGER change_log_wake");
                try
                {
                    var r = await WriteCostAsync(table, triggers, sync) with { Notify = notify };
                    _r.WriteCost.Add(r);
                    Log($"write cost: {table} notify={notify} synchronous_commit={sync}: {r.InsertsPerSecond:F0} inserts/s");
                }
                finally
                {
                    if (wake && !notify && triggers) await ExecAsync(_admin, "ALTER TABLE change_log ENABLE TRIGGER change_log_wake");
                }
            }
    }

    private async Task<WriteCostResult> WriteCostAsync(string table, bool triggers, string sync)
    {
        await WaitIdleAsync(_hub, 20);
        long inserts = 0;
        var note = BenchSchema.Note(o.PayloadNoteLength);
        // Where the cell's CPU goes, besides the hub process: the writers' own backends and the
        // hub's database sessions (the ticker's, whose tick function folds each event into the live
        // state, and the tail's). The cluster runs on this machine, so /proc has their counters.
        var hubSessions = await SessionCpuAsync(_admin, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'EventHub%'");
        var writerCpu = new double[8];
        // WAL written meanwhile (the whole cluster's, but nothing else writes during a cell): with
        // synchronous commits the writers wait for its flushes, so its volume is a cost of its own.
        var wal0 = await ScalarAsync<string>(_admin, "SELECT pg_current_wal_lsn()::text");
        var cpu0 = _hub.CpuSeconds();
        var t0 = Stopwatch.GetTimestamp();
        var until = t0 + (long)(o.WriteCostSeconds * Stopwatch.Frequency);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
        {
            await using var c = await _writerDb.OpenConnectionAsync();
            await using (var set = new NpgsqlCommand($"SET synchronous_commit = {sync}", c)) await set.ExecuteNonQueryAsync();
            var backend = c.ProcessID;
            var backendCpu0 = Machine.ProcessCpuSeconds(backend);
            await using var cmd = new NpgsqlCommand($"INSERT INTO {table} (url, session_id, ci_state, note) VALUES ($1, $2, 'passing', $3)", c);
            var url = new NpgsqlParameter { Value = "" };
            cmd.Parameters.Add(url);
            cmd.Parameters.Add(new NpgsqlParameter { Value = BenchSchema.Session });
            cmd.Parameters.Add(new NpgsqlParameter { Value = note });
            var i = 0;
            while (Stopwatch.GetTimestamp() < until)
            {
                url.Value = $"https://git.example/bench/pull/w{w}-{i++}";
                await cmd.ExecuteNonQueryAsync();
                Interlocked.Increment(ref inserts);
            }
            writerCpu[w] = (Machine.ProcessCpuSeconds(backend) - backendCpu0) ?? 0;
        }));
        var seconds = (Stopwatch.GetTimestamp() - t0) / (double)Stopwatch.Frequency;
        var hubCpu = _hub.CpuSeconds() - cpu0;
        var hubSessionsCpu = hubSessions.Elapsed();
        var walBytes = await ScalarAsync<decimal>(_admin, $"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{wal0}')");
        return new WriteCostResult(table, triggers, sync, 8, Math.Round(seconds, 2), inserts, Math.Round(inserts / seconds),
            Math.Round(hubCpu, 2), WriterSessionsCpuSeconds: Math.Round(writerCpu.Sum(), 2),
            HubSessionsCpuSeconds: Math.Round(hubSessionsCpu, 2), WalBytes: (long)walBytes);
    }

    /// <summary>The CPU the backends a query names use from now on (a backend that ends meanwhile counts nothing).</summary>
    private static async Task<SessionCpu> SessionCpuAsync(NpgsqlDataSource db, string pidsSql)
    {
        var pids = new List<int>();
        await using (var c = await db.OpenConnectionAsync())
        await using (var cmd = new NpgsqlCommand(pidsSql, c))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync()) pids.Add(r.GetInt32(0));
        return new SessionCpu(pids.ToDictionary(p => p, p => Machine.ProcessCpuSeconds(p) ?? 0));
    }

    private sealed class SessionCpu(Dictionary<int, double> start)
    {
        public double Elapsed() => start.Sum(p => Machine.ProcessCpuSeconds(p.Key) is { } now ? now - p.Value : 0);
    }

    // ---------------------------------------------------------------- catch-up

    private async Task CatchUpSectionAsync()
    {
        var existing = await ScalarAsync<long>(_admin, "SELECT count(*) FROM change_log");
        var toInsert = Math.Max(0, o.CatchUpEvents - existing);
        Log($"catch-up: inserting {toInsert} events through the bench_pr trigger (generate_series, 100,000 per transaction)");
        var note = BenchSchema.Note(o.PayloadNoteLength);
        for (long done = 0; done < toInsert; done += 100_000)
        {
            var n = Math.Min(100_000, toInsert - done);
            await ExecAsync(_admin, $"""
                INSERT INTO bench_pr (url, session_id, ci_state, note)
                SELECT 'https://git.example/bench/pull/c' || g, '{BenchSchema.Session}', 'passing', '{note}'
                FROM generate_series(1, {n}) g
                """);
        }
        // Statistics as a database that grew to this size over time would have them (autovacuum
        // analyses a bulk-loaded table only after its next nap).
        await ExecAsync(_admin, "VACUUM ANALYZE change_log");
        var total = await ScalarAsync<long>(_admin, "SELECT count(*) FROM change_log");
        Log($"catch-up: log holds {total} events; waiting for the hub's tail to go idle");
        await WaitIdleAsync(_hub, 120);

        foreach (var t in o.Transports)
            await CatchUpAsync("EventHub", _hub, t, 1, total, o.CatchUpOneCapSeconds);
        await CatchUpAsync("EventHub", _hub, Transport.Sse, o.CatchUpClients, total, o.CatchUpManyCapSeconds);
        if (o.Baseline)
        {
            await using var baseline = await StartBaselineAsync();
            await CatchUpAsync("baseline", baseline, Transport.Sse, 1, total, o.CatchUpOneCapSeconds);
            await CatchUpAsync("baseline", baseline, Transport.Sse, o.CatchUpClients, total, o.CatchUpManyCapSeconds);
        }
    }

    private async Task CatchUpAsync(string serverName, ServerProcess server, Transport transport, int n, long total, double capSeconds,
        string? conditions = null)
    {
        if (conditions is null) await WaitIdleAsync(server, 30); // under a load the caller started, the hub is not idle
        var cpu0 = server.CpuSeconds();
        var t0 = Stopwatch.GetTimestamp();
        var (clients, failed) = await ClientFactory.OpenAsync(server.BaseUri, transport, n, null, "0", parallel: n);
        try
        {
            var until = t0 + (long)(capSeconds * Stopwatch.Frequency);
            var tEnd = t0;
            while (Stopwatch.GetTimestamp() < until)
            {
                if (clients.All(c => c.Count >= total)) break;
                if (clients.All(c => c.Completion.IsCompleted)) break;
                await Task.Delay(10);
            }
            tEnd = Stopwatch.GetTimestamp();
            var received = clients.Sum(c => c.Count);
            var seconds = (tEnd - t0) / (double)Stopwatch.Frequency;
            var completed = clients.Count == n && clients.All(c => c.Count >= total);
            var result = new CatchUpResult(serverName, Name(transport), n, total, received, Math.Round(seconds, 2), completed,
                Math.Round(received / seconds), Math.Round(received / seconds / Math.Max(1, clients.Count)), Math.Round(server.CpuSeconds() - cpu0, 2),
                conditions ?? "quiet");
            _r.CatchUp.Add(result);
            Log($"catch-up {serverName} {Name(transport)} x{n}{(conditions is null ? "" : " (" + conditions + ")")}: {received} events in {seconds:F1} s = {result.EventsPerSecond:F0}/s" +
                (completed ? "" : " (time cap reached)") + (failed > 0 ? $", {failed} failed to connect" : ""));
        }
        finally
        {
            await ClientFactory.CloseAsync(clients);
        }
    }
}
