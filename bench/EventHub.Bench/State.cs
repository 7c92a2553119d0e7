using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EventHub.Log;
using EventHub.State;
using Npgsql;

namespace EventHub.Bench;

/// <summary>One state request: time to the full body, body size, entities.</summary>
public sealed record StateResult(
    string Project, long LogRows, int Requests, int Entities, long BodyBytes,
    double FirstMs, double P50Ms, double P99Ms, double MaxMs, double MeanMs,
    double WriterRate, long WriterEvents, bool XidHeldOpen, double HubCpuSeconds,
    double BuildSeconds, int BuildTransactions, int Ticks,
    double ServerMeanMs, long ServerCalls, double HubCoresWriterOnly, double HubCpuPerRequestMs, double RequestsWallSeconds,
    List<TableStats> TablesAfterBuild, List<TableStats> TablesAfterRequests,
    string Plan, double[] LoadBefore, double[] LoadAfter);

public sealed record TableStats(string Table, long LiveTuples, long DeadTuples, long ModifiedSinceAnalyze,
    string? LastAutovacuum, string? LastAutoanalyze, long AutovacuumCount, long AutoanalyzeCount,
    string? LastVacuum, string? LastAnalyze, long Pages);

public sealed partial class BenchRun
{
    /// <summary>The project of the state section (the other sections write new PR entities into "bench" with every event).</summary>
    public const string StateProject = "bench-state";

    // ---------------------------------------------------------------- live state (issue 15, point 3)

    private async Task StateSectionAsync()
    {
        var load0 = Machine.LoadAverage();
        Log($"state: load {string.Join(" / ", load0)}");
        var existing = await ScalarAsync<long>(_admin, "SELECT count(*) FROM change_log");
        var toInsert = Math.Max(o.StateEvents - existing, (long)Math.Ceiling(10 * o.StateEntities / 0.6)); // after other sections: still 10 events per entity
        const int PerTransaction = 5_000;
        var transactions = (int)((toInsert + PerTransaction - 1) / PerTransaction);
        var benchShare = 0.6; // of every transaction: the rest goes to 20 other projects
        Log($"state: writing {toInsert:N0} events in {transactions} transactions of {PerTransaction:N0} while the hub ticks " +
            $"({o.StateEntities:N0} entities of project {StateProject}, 40,000 of 20 other projects)");
        await ExecAsync(_admin, StateBatchProcedure(o.StateEntities));
        var tick0 = await ScalarAsync<long>(_admin, "SELECT coalesce(max(tick_id), 0) FROM eventhub_tick");
        var build = Stopwatch.StartNew();
        long written = 0;
        for (var b = 0; b < transactions; b++)
        {
            var n = (int)Math.Min(PerTransaction, toInsert - written);
            var benchN = (int)Math.Round(n * benchShare);
            await ExecAsync(_writerDb, $"CALL bench_state_batch({b}, {benchN}, {n - benchN}, {PerTransaction - (int)Math.Round(PerTransaction * benchShare)}, {(int)Math.Round(PerTransaction * benchShare)})");
            written += n;
            if ((b + 1) % 40 == 0) Log($"  {written:N0} events written, {build.Elapsed.TotalSeconds:F0} s");
        }
        // The hub's ticker folds the last transactions into the state: wait for the newest one.
        var head = await ScalarAsync<long>(_admin, "SELECT count(*) FROM change_log");
        var folded = Stopwatch.StartNew();
        while (folded.Elapsed.TotalSeconds < 120 &&
               await ScalarAsync<bool>(_admin, "SELECT eventhub_tick_of(max(tx_id)) IS NULL FROM change_log")) await Task.Delay(200);
        var buildSeconds = build.Elapsed.TotalSeconds;
        var ticks = (int)(await ScalarAsync<long>(_admin, "SELECT coalesce(max(tick_id), 0) FROM eventhub_tick") - tick0);
        Log($"state: log holds {head:N0} events after {buildSeconds:F0} s ({ticks} ticks); no manual ANALYZE");
        await Task.Delay(1000);
        var afterBuild = await TableStatsAsync();
        foreach (var t in afterBuild) Log($"  {Describe(t)}");

        // The measurement: a writer at 100 events/s into the project (updates of its existing
        // entities: the count stays), one transaction holding an xid open from before the first
        // request to after the last, then N sequential requests.
        await using var holder = await _admin.OpenConnectionAsync();
        await using var open = await holder.BeginTransactionAsync();
        await using (var xid = new NpgsqlCommand("SELECT pg_current_xact_id()", holder, open)) await xid.ExecuteScalarAsync();
        using var stopWriter = new CancellationTokenSource();
        var writerEvents = 0L;
        var writerStart = Stopwatch.GetTimestamp();
        var writer = Task.Run(() => StateWriterAsync(o.StateWriterRate, stopWriter.Token, n => Interlocked.Add(ref writerEvents, n)));
        // The writer's changes pile up behind the open transaction; meanwhile the hub's CPU with
        // the writer alone (its ticker and tail), subtracted from the requests' CPU below.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var idleCpu0 = _hub.CpuSeconds();
        var idleT0 = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(4));
        var writerOnlyCores = (_hub.CpuSeconds() - idleCpu0) / Stopwatch.GetElapsedTime(idleT0).TotalSeconds;

        using var http = new HttpClient { BaseAddress = _hub.BaseUri, Timeout = TimeSpan.FromSeconds(60) };
        var url = $"/api/v1/state?project={StateProject}";
        await ExecAsync(_admin, "SELECT pg_stat_statements_reset()");
        var cpu0 = _hub.CpuSeconds();
        var requestsT0 = Stopwatch.GetTimestamp();
        var times = new List<double>();
        int entities = 0;
        long bytes = 0;
        double first = 0;
        for (var i = 0; i <= o.StateRequests; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            var body = await response.Content.ReadAsByteArrayAsync();
            var ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (i == 0) first = ms; // the first request is reported apart (it warms the hub's code paths and caches)
            else times.Add(ms);
            if (i == 0 || i == o.StateRequests)
            {
                using var doc = JsonDocument.Parse(body);
                entities = doc.RootElement.GetProperty("entities").GetArrayLength();
                bytes = body.Length;
            }
        }
        var hubCpu = _hub.CpuSeconds() - cpu0;
        var requestsWall = Stopwatch.GetElapsedTime(requestsT0).TotalSeconds;
        var cpuPerRequestMs = Math.Max(0, hubCpu - writerOnlyCores * requestsWall) / (o.StateRequests + 1) * 1000;
        await Task.Delay(600);
        var (serverCalls, serverMean) = await StateStatementStatsAsync();
        if (o.StateWayRounds > 0) await StateWaysAsync(o.StateWayRounds);

        // The state read's plan, as the hub runs it (its SQL, its session settings), under the same load.
        var plan = await ExplainStateAsync();
        var writerSeconds = Stopwatch.GetElapsedTime(writerStart).TotalSeconds;
        var writerEventsMeasured = Interlocked.Read(ref writerEvents); // not the hold's (--state-hold)
        var afterRequests = await TableStatsAsync();
        if (o.StateHoldSeconds > 0)
        {
            Log($"state: holding {o.StateHoldSeconds} s: database {_pg.ConnectionString}; hub {_hub.BaseUri} (pid {_hub.Pid}); {url}");
            await Task.Delay(TimeSpan.FromSeconds(o.StateHoldSeconds));
        }
        stopWriter.Cancel();
        await writer;
        await open.RollbackAsync();

        times.Sort();
        double P(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
        var load1 = Machine.LoadAverage();
        var result = new StateResult(StateProject, head, times.Count, entities, bytes, Math.Round(first, 1),
            Math.Round(P(0.50), 1), Math.Round(P(0.99), 1), Math.Round(times[^1], 1), Math.Round(times.Average(), 1),
            Math.Round(writerEventsMeasured / writerSeconds, 1), writerEventsMeasured, true, Math.Round(hubCpu, 2),
            Math.Round(buildSeconds), transactions, ticks, Math.Round(serverMean, 2), serverCalls,
            Math.Round(writerOnlyCores, 3), Math.Round(cpuPerRequestMs, 1), Math.Round(requestsWall, 1),
            afterBuild, afterRequests, plan, load0, load1);
        _r.State.Add(result);
        Log($"state: {times.Count} requests: p50 {result.P50Ms} ms, p99 {result.P99Ms} ms, max {result.MaxMs} ms (first {result.FirstMs} ms); " +
            $"{entities:N0} entities, {bytes:N0} bytes; writer {result.WriterRate}/s; hub CPU {result.HubCpuPerRequestMs} ms per request (writer alone: {result.HubCoresWriterOnly} cores); server mean {result.ServerMeanMs} ms over {serverCalls} calls; load {string.Join(" / ", load1)}");
        foreach (var t in afterRequests) Log($"  {Describe(t)}");
    }

    private static string Describe(TableStats t) =>
        $"{t.Table}: {t.LiveTuples:N0} live, {t.DeadTuples:N0} dead, {t.Pages:N0} pages, {t.ModifiedSinceAnalyze:N0} modified since analyze, " +
        $"autovacuum {t.AutovacuumCount}x (last {t.LastAutovacuum ?? "never"}), autoanalyze {t.AutoanalyzeCount}x (last {t.LastAutoanalyze ?? "never"})";

    /// <summary>
    /// A transaction of the log, written into change_log as the source tables' triggers write it
    /// (same event types, keys and payload shapes), without the source rows: project
    /// bench-state's entities (80 % sessions, 10 % PRs, 6 % checks, 4 % review threads) each
    /// created once and then updated in turn; 20 other projects' sessions (2,000 each).
    /// </summary>
    private static string StateBatchProcedure(int entities) => $$"""
        CREATE OR REPLACE PROCEDURE bench_state_batch(b int, bench_n int, other_n int, other_per int, bench_per int) LANGUAGE sql AS $$
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        SELECT '{{StateProject}}', 'bs-' || (e % {{entities * 8 / 10}}),
               CASE WHEN e < {{entities * 8 / 10}} THEN CASE WHEN k < {{entities}} THEN 'session_created' ELSE 'session_updated' END
                    WHEN e < {{entities * 9 / 10}} THEN CASE WHEN k < {{entities}} THEN 'pr_created' ELSE 'pr_updated' END
                    WHEN e < {{entities * 96 / 100}} THEN 'pr_check_recorded'
                    ELSE CASE WHEN k % 3 = 0 THEN 'pr_review_thread_resolved' ELSE 'pr_review_thread_added' END END,
               CASE WHEN e < {{entities * 8 / 10}} THEN jsonb_build_object('id', 'bs-' || e, 'activity', (ARRAY['active','idle','waiting'])[1 + k % 3],
                                 'isTerminated', false, 'previewUrl', 'https://preview.example/bs-' || e, 'previewRevision', k / {{entities}})
                    WHEN e < {{entities * 9 / 10}} THEN jsonb_build_object('url', 'https://git.example/bench-state/pull/' || e, 'session', 'bs-' || (e % {{entities * 8 / 10}}),
                                 'state', 'open', 'ci', (ARRAY['pending','passing','failing'])[1 + k % 3], 'review', 'none', 'mergeability', 'mergeable')
                    WHEN e < {{entities * 96 / 100}} THEN jsonb_build_object('pr', 'https://git.example/bench-state/pull/' || ({{entities * 8 / 10}} + e % {{entities / 10}}),
                                 'name', 'ci-' || e, 'commit', 'c' || e, 'status', (ARRAY['pending','passing','failing'])[1 + k % 3])
                    ELSE jsonb_build_object('pr', 'https://git.example/bench-state/pull/' || ({{entities * 8 / 10}} + e % {{entities / 10}}), 'thread', 't' || e,
                                 'path', 'src/f' || e || '.cs', 'line', k % 500, 'resolved', k % 3 = 0) END
        FROM (SELECT k, k % {{entities}} AS e FROM generate_series(b::bigint * bench_per, b::bigint * bench_per + bench_n - 1) AS k) g;
        INSERT INTO change_log (project_id, session_id, event_type, payload)
        SELECT 'other-' || (k % 20), 'other-' || (k % 20) || '-' || (k % 40000),
               CASE WHEN k < 40000 THEN 'session_created' ELSE 'session_updated' END,
               jsonb_build_object('id', 'other-' || (k % 20) || '-' || (k % 40000), 'activity', 'active', 'isTerminated', false,
                                  'previewUrl', null, 'previewRevision', k / 40000)
        FROM generate_series(b::bigint * other_per, b::bigint * other_per + other_n - 1) AS k;
        $$;
        """;

    /// <summary>Open loop at <paramref name="rate"/>/s: one transaction per event, a session_updated of an existing session of the project.</summary>
    private async Task StateWriterAsync(double rate, CancellationToken stop, Action<long> wrote)
    {
        var sessions = o.StateEntities * 8 / 10;
        var start = Stopwatch.GetTimestamp();
        long next = -1;
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var c = await _writerDb.OpenConnectionAsync();
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO change_log (project_id, session_id, event_type, payload)
                VALUES ($1, $2, 'session_updated', jsonb_build_object('id', $2::text, 'activity', 'active', 'isTerminated', false,
                        'previewUrl', 'https://preview.example/' || $2::text, 'previewRevision', $3::int))
                """, c);
            var project = new NpgsqlParameter { Value = StateProject };
            var session = new NpgsqlParameter { Value = "" };
            var revision = new NpgsqlParameter { Value = 0 };
            cmd.Parameters.Add(project);
            cmd.Parameters.Add(session);
            cmd.Parameters.Add(revision);
            while (!stop.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                var wait = start + (long)(i * Stopwatch.Frequency / rate) - Stopwatch.GetTimestamp();
                try
                {
                    if (wait > 0) await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), stop);
                    session.Value = "bs-" + (i * 7919 % sessions).ToString(CultureInfo.InvariantCulture);
                    revision.Value = (int)(1000 + i);
                    await cmd.ExecuteNonQueryAsync(stop); // autocommit: one transaction per event
                    wrote(1);
                }
                catch (OperationCanceledException) { break; }
            }
        }));
    }

    private async Task<List<TableStats>> TableStatsAsync()
    {
        await using var c = await _admin.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT s.relname::text, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
                   s.last_autovacuum::text, s.last_autoanalyze::text, s.autovacuum_count, s.autoanalyze_count,
                   s.last_vacuum::text, s.last_analyze::text, pg_relation_size(s.relid) / current_setting('block_size')::int
            FROM pg_stat_user_tables s WHERE s.relname IN ('change_log', 'eventhub_state') ORDER BY s.relname
            """, c);
        var list = new List<TableStats>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync())
            list.Add(new TableStats(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt64(6), r.GetInt64(7),
                r.IsDBNull(8) ? null : r.GetString(8), r.IsDBNull(9) ? null : r.GetString(9), r.GetInt64(10)));
        return list;
    }

    /// <summary>The hub's own state statements since the reset: calls and mean execution time (pg_stat_statements).</summary>
    private async Task<(long Calls, double MeanMs)> StateStatementStatsAsync()
    {
        await using var c = await _admin.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("""
            SELECT coalesce(sum(calls), 0)::bigint, coalesce(sum(total_exec_time) / nullif(sum(calls), 0), 0)::float8
            FROM pg_stat_statements WHERE query LIKE '%FROM eventhub_state%' AND query NOT LIKE 'EXPLAIN%'
            """, c);
        await using var r = await cmd.ExecuteReaderAsync();
        await r.ReadAsync();
        return (r.GetInt64(0), r.GetDouble(1));
    }

    /// <summary>EXPLAIN (ANALYZE, BUFFERS) of LiveStateReader's SQL for the project, in a session with the hub's settings.</summary>
    private async Task<string> ExplainStateAsync()
    {
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(
            new NpgsqlConnectionStringBuilder(_pg.ConnectionString) { Pooling = true, ApplicationName = "bench-explain" }.ConnectionString, "bench-explain");
        await using var c = await hubSessions.OpenConnectionAsync();
        var filter = new EventFilter([StateProject], null);
        var (sql, _) = LiveStateReader.Sql(filter);
        await using var transaction = await c.BeginTransactionAsync(); // as the reader runs it: its setting, then its SQL
        var setting = LiveStateReader.PlanSetting(filter);
        await using (var set = new NpgsqlCommand(setting, c, transaction)) await set.ExecuteNonQueryAsync();
        await using var cmd = new NpgsqlCommand("EXPLAIN (ANALYZE, BUFFERS) " + sql, c, transaction);
        cmd.Parameters.AddWithValue("projects", new[] { StateProject });
        var lines = new List<string>
        {
            "-- session: " + string.Join(", ", await SettingsAsync(c)) + "; then " + setting,
        };
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) lines.Add(r.GetString(0));
        return string.Join('\n', lines);
    }

    private static async Task<List<string>> SettingsAsync(NpgsqlConnection c)
    {
        await using var cmd = new NpgsqlCommand("SELECT name || '=' || setting FROM pg_settings WHERE name IN ('jit', 'enable_bitmapscan', 'work_mem', 'random_page_cost') ORDER BY name", c);
        var list = new List<string>();
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) list.Add(r.GetString(0));
        return list;
    }
}
