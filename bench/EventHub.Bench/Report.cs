using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EventHub.Bench;

public static class Report
{
    private static string F(double v, int digits = 1) => v.ToString("N" + digits, CultureInfo.InvariantCulture);

    public static void Evaluate(BenchResults r, BenchOptions o)
    {
        // Fan-out capacity: the best cell that lost nothing, drained, and kept p99 <= 100 ms.
        foreach (var g in r.Latency.GroupBy(c => (c.Server, c.Transport)))
        {
            var passing = g.Where(c => c.Lost == 0 && c.Drained && c.P99Ms <= 100).ToList();
            var best = passing.OrderByDescending(c => c.DeliveriesPerSecond).FirstOrDefault();
            // Per CPU-second only where the hub did enough work to measure (>= 0.5 CPU-s; /proc counts in 10 ms ticks).
            var bestCpu = passing.Where(c => c.HubCpuSeconds >= 0.5).OrderByDescending(c => c.DeliveriesPerCpuSecond).FirstOrDefault();
            var failing = g.Where(c => !(c.Lost == 0 && c.Drained && c.P99Ms <= 100)).OrderBy(c => c.DeliveriesPerSecond * 0 + c.Subscribers * (double)c.TargetRate).FirstOrDefault();
            r.Fanout.Add(new FanoutCapacity(g.Key.Server, g.Key.Transport, best?.DeliveriesPerSecond ?? 0,
                best is null ? "-" : $"{best.Subscribers} x {best.TargetRate}/s",
                bestCpu?.DeliveriesPerCpuSecond ?? 0, bestCpu is null ? "-" : $"{bestCpu.Subscribers} x {bestCpu.TargetRate}/s",
                failing is null ? "every cell passed" : $"first failing cell: {failing.Subscribers} x {failing.TargetRate}/s (p99 {F(failing.P99Ms)} ms, {failing.DeliveriesPerSecond:N0} deliveries/s, lost {failing.Lost})"));
        }

        LatencyCell? Cell(string server, string transport, int subs, int rate) =>
            r.Latency.FirstOrDefault(c => c.Server == server && c.Transport == transport && c.Subscribers == subs && c.TargetRate == rate);

        void LatencyTarget(int subs, int rate, double p50, double p99)
        {
            var c = Cell("EventHub", "SSE", subs, rate);
            r.Targets.Add(new TargetResult($"SSE latency, {subs} subscribers x {rate}/s", $"p50 <= {p50} ms, p99 <= {p99} ms",
                c is null ? "not run" : $"p50 {F(c.P50Ms)} ms, p99 {F(c.P99Ms)} ms" + (c.Lost > 0 ? $", lost {c.Lost}" : ""),
                c is null ? null : c.P50Ms <= p50 && c.P99Ms <= p99 && c.Lost == 0, ""));
        }
        LatencyTarget(100, 100, 3, 10);
        LatencyTarget(1000, 50, 10, 30);

        var sse = r.Fanout.FirstOrDefault(f => f.Server == "EventHub" && f.Transport == "SSE");
        var mp = r.Fanout.FirstOrDefault(f => f.Server == "EventHub" && f.Transport == "SignalR MessagePack");
        r.Targets.Add(new TargetResult("SSE fan-out per hub CPU-second", ">= 50,000 deliveries per hub CPU-s",
            sse is null ? "not run" : $"{sse.DeliveriesPerCpuSecond:N0} (at {sse.BestPerCpuCell}); capacity {sse.DeliveriesPerSecond:N0}/s",
            sse is null || sse.DeliveriesPerCpuSecond == 0 ? null : sse.DeliveriesPerCpuSecond >= 50_000, ""));
        r.Targets.Add(new TargetResult("MessagePack SignalR fan-out vs SSE", ">= 0.5 x SSE per hub CPU-s",
            sse is null || mp is null ? "not run" : $"{mp.DeliveriesPerCpuSecond:N0} = {F(mp.DeliveriesPerCpuSecond / Math.Max(1, sse.DeliveriesPerCpuSecond), 2)} x SSE",
            sse is null || mp is null || sse.DeliveriesPerCpuSecond == 0 ? null : mp.DeliveriesPerCpuSecond >= 0.5 * sse.DeliveriesPerCpuSecond, ""));

        var cu = r.CatchUp.FirstOrDefault(c => c.Server == "EventHub" && c.Transport == "SSE" && c.Clients == 1);
        r.Targets.Add(new TargetResult("Catch-up, one SSE client", ">= 100,000 events/s",
            cu is null ? "not run" : $"{cu.EventsPerSecond:N0} events/s over {cu.LogEvents:N0}",
            cu is null ? null : cu.EventsPerSecond >= 100_000, ""));

        var mem = r.Memory.Where(m => m.Server == "EventHub" && m.Transport == "SSE").OrderByDescending(m => m.Subscribers).FirstOrDefault();
        r.Targets.Add(new TargetResult("Memory per idle SSE subscriber", "<= 32 KiB",
            mem is null ? "not run" : $"{F(mem.BytesPerSubscriber / 1024)} KiB at {mem.Connected}",
            mem is null ? null : mem.BytesPerSubscriber <= 32 * 1024, ""));

        var db = r.DatabaseLoad.Where(d => d.Server == "EventHub").OrderBy(d => d.Subscribers).ToList();
        if (db.Count >= 2)
        {
            var ratio = db[^1].StatementsPerSecond / Math.Max(0.1, db[0].StatementsPerSecond);
            r.Targets.Add(new TargetResult("Database queries/s independent of subscribers", "flat (within 25 %)",
                $"{F(db[0].StatementsPerSecond)}/s at {db[0].Connected} vs {F(db[^1].StatementsPerSecond)}/s at {db[^1].Connected} ({F(ratio, 2)} x)",
                ratio <= 1.25, ""));
        }
        else r.Targets.Add(new TargetResult("Database queries/s independent of subscribers", "flat", "not run", null, ""));

        StateTarget(r);

        foreach (var sync in new[] { "on", "off" })
        {
            var plain = r.WriteCost.FirstOrDefault(w => !w.Triggers && w.SynchronousCommit == sync);
            // The core v2 schema has no NOTIFY trigger: its default is the trigger-only variant.
            var trig = r.WriteCost.FirstOrDefault(w => w.Triggers && w.Notify && w.SynchronousCommit == sync)
                ?? r.WriteCost.FirstOrDefault(w => w.Triggers && w.SynchronousCommit == sync);
            var quiet = r.WriteCost.FirstOrDefault(w => w.Triggers && !w.Notify && w.SynchronousCommit == sync && w != trig);
            if (plain is null || trig is null) continue;
            var cost = 1 - trig.InsertsPerSecond / plain.InsertsPerSecond;
            r.Targets.Add(new TargetResult($"Write-side cost of triggers + ordering (synchronous_commit={sync})", "<= 30 %",
                $"{F(cost * 100)} % ({trig.InsertsPerSecond:N0} vs {plain.InsertsPerSecond:N0} inserts/s)", cost <= 0.30,
                (sync == "off" ? "no fsync per commit. " : "default settings. ") +
                (quiet is null ? "" : $"Without the NOTIFY trigger: {F((1 - quiet.InsertsPerSecond / plain.InsertsPerSecond) * 100)} % ({quiet.InsertsPerSecond:N0}/s)")));
        }
    }

    private static void StateTarget(BenchResults r)
    {
        var st = r.State.LastOrDefault();
        r.Targets.Add(new TargetResult("State of a project with 10,000 entities, 1,000,000-event log (issue 15)", "<= 100 ms",
            st is null ? "not run" : $"p50 {F(st.P50Ms)} ms, p99 {F(st.P99Ms)} ms, max {F(st.MaxMs)} ms ({st.Entities:N0} entities, {st.LogRows:N0} events, {st.BodyBytes / 1048576.0:F1} MiB)",
            st is null ? null : st.P99Ms <= 100,
            st is null ? "" : $"time to the full body over {st.Requests} sequential requests, writer at {F(st.WriterRate)}/s and one xid held open; met = p99 within the target"));
    }

    public static (string Md, string Json) Write(BenchResults r, string outDir, bool quick)
    {
        Directory.CreateDirectory(outDir);
        var stem = Path.Combine(outDir, r.Date + (quick ? "-quick" : ""));
        var json = stem + ".json";
        File.WriteAllText(json, JsonSerializer.Serialize(r, new JsonSerializerOptions { WriteIndented = true }));
        var md = stem + ".md";
        File.WriteAllText(md, r.Comparison is null ? Markdown(r) : CompareReport.Markdown(r));
        return (md, json);
    }

    public static string Markdown(BenchResults r)
    {
        var s = new StringBuilder();
        s.AppendLine($"# EventHub benchmark, {r.Date} ({r.Mode})").AppendLine();
        s.AppendLine($"Command: `{r.Command}` — {r.DurationSeconds:N0} s. Started {r.StartedUtc}.").AppendLine();
        s.AppendLine("## Machine and versions").AppendLine();
        foreach (var (k, v) in r.Machine) s.AppendLine($"- {k}: {Fmt(v)}");
        foreach (var (k, v) in r.Versions) s.AppendLine($"- {k}: {v}");
        s.AppendLine($"- load average (1/5/15 min) at start and end: {string.Join(" → ", r.LoadAverages.Select(l => string.Join(" / ", l.Select(x => F(x, 2)))))}");
        s.AppendLine("- hub, PostgreSQL, load generator (and the baseline) share the machine; other work may have run at the same time.").AppendLine();
        s.AppendLine("## Parameters").AppendLine();
        foreach (var (k, v) in r.Parameters) s.AppendLine($"- {k}: {Fmt(v)}");
        s.AppendLine();

        s.AppendLine("## Targets (issue 8)").AppendLine();
        s.AppendLine("| target | wanted | measured | met |").AppendLine("|---|---|---|---|");
        foreach (var t in r.Targets)
            s.AppendLine($"| {t.Name} | {t.Target} | {t.Actual} | {(t.Met is null ? "n/a" : t.Met.Value ? "yes" : "**no**")} |");
        s.AppendLine();

        s.AppendLine("## Latency, commit to client").AppendLine();
        s.AppendLine("p50 / p99 / max in ms. *achieved* is the write rate reached; *lost* counts events not received by the end of the drain window (for EventHub they are late, not dropped: lagging streams catch up from the log).").AppendLine();
        s.AppendLine("| server | transport | subs | rate/s | achieved/s | p50 | p99 | max | deliveries/s | lost | hub CPU-s | deliveries per hub CPU-s |");
        s.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var c in r.Latency)
            s.AppendLine($"| {c.Server} | {c.Transport} | {c.SubscribersConnected:N0} | {c.TargetRate:N0} | {c.AchievedRate:N0} | {F(c.P50Ms)} | {F(c.P99Ms)} | {F(c.MaxMs)} | {c.DeliveriesPerSecond:N0} | {c.Lost:N0} | {F(c.HubCpuSeconds, 2)} | {c.DeliveriesPerCpuSecond:N0} |");
        s.AppendLine();

        var baseline = r.Latency.Where(c => c.Server == "baseline").ToList();
        if (baseline.Count > 0)
        {
            s.AppendLine("### EventHub SSE against the naive baseline").AppendLine();
            s.AppendLine("| subs | rate/s | p50 hub / baseline | p99 hub / baseline | server CPU-s hub / baseline | deliveries per CPU-s, hub ÷ baseline |");
            s.AppendLine("|---:|---:|---|---|---|---:|");
            foreach (var b in baseline)
            {
                var h = r.Latency.FirstOrDefault(c => c.Server == "EventHub" && c.Transport == "SSE" && c.Subscribers == b.Subscribers && c.TargetRate == b.TargetRate);
                if (h is null) continue;
                s.AppendLine($"| {b.Subscribers:N0} | {b.TargetRate:N0} | {F(h.P50Ms)} / {F(b.P50Ms)} | {F(h.P99Ms)} / {F(b.P99Ms)} | {F(h.HubCpuSeconds, 2)} / {F(b.HubCpuSeconds, 2)} | {(b.DeliveriesPerCpuSecond > 0 ? F(h.DeliveriesPerCpuSecond / b.DeliveriesPerCpuSecond, 1) + " x" : "-")} |");
            }
            s.AppendLine();
        }

        s.AppendLine("## Fan-out capacity").AppendLine();
        s.AppendLine("Most deliveries/s in a cell of the grid that lost nothing and kept p99 ≤ 100 ms; per hub CPU-second, the best such cell with ≥ 0.5 CPU-s of work.").AppendLine();
        s.AppendLine("| server | transport | deliveries/s | at | deliveries per server CPU-s | at | note |").AppendLine("|---|---|---:|---|---:|---|---|");
        foreach (var f in r.Fanout)
            s.AppendLine($"| {f.Server} | {f.Transport} | {f.DeliveriesPerSecond:N0} | {f.AtCell} | {f.DeliveriesPerCpuSecond:N0} | {f.BestPerCpuCell} | {f.Note} |");
        s.AppendLine();

        s.AppendLine("## Catch-up").AppendLine();
        s.AppendLine("| server | transport | clients | log events | received | seconds | complete | events/s (all clients) | per client | server CPU-s |").AppendLine("|---|---|---:|---:|---:|---:|---|---:|---:|---:|");
        foreach (var c in r.CatchUp)
            s.AppendLine($"| {c.Server} | {c.Transport} | {c.Clients} | {c.LogEvents:N0} | {c.Received:N0} | {F(c.Seconds)} | {(c.Completed ? "yes" : "time cap")} | {c.EventsPerSecond:N0} | {c.EventsPerSecondPerClient:N0} | {F(c.HubCpuSeconds, 2)} |");
        s.AppendLine();

        s.AppendLine("## Memory per idle subscriber").AppendLine();
        s.AppendLine("| server | transport | subscribers | RSS before (MiB) | RSS after (MiB) | per subscriber (KiB) |").AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var m in r.Memory)
            s.AppendLine($"| {m.Server} | {m.Transport} | {m.Connected:N0} | {F(m.RssBaselineBytes / 1048576.0)} | {F(m.RssBytes / 1048576.0)} | {F(m.BytesPerSubscriber / 1024)} |");
        s.AppendLine();

        s.AppendLine("## Database load").AppendLine();
        s.AppendLine("Statements the server's own role executed (pg_stat_statements) while the writer inserted at a fixed rate; transactions = pg_stat_database commits minus the writer's.").AppendLine();
        s.AppendLine("| server | subscribers | write rate/s | seconds | statements | statements/s | transactions/s |").AppendLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var d in r.DatabaseLoad)
            s.AppendLine($"| {d.Server} | {d.Connected:N0} | {d.WriteRate} | {F(d.Seconds)} | {d.Statements:N0} | {F(d.StatementsPerSecond)} | {F(d.TransactionsPerSecond)} |");
        s.AppendLine();

        s.AppendLine("## Write-side cost").AppendLine();
        s.AppendLine("| table | change_log trigger | NOTIFY trigger | synchronous_commit | writers | inserts/s | vs no trigger | hub CPU-s meanwhile |").AppendLine("|---|---|---|---|---:|---:|---:|---:|");
        foreach (var w in r.WriteCost)
        {
            var plain = r.WriteCost.FirstOrDefault(x => !x.Triggers && x.SynchronousCommit == w.SynchronousCommit);
            s.AppendLine($"| {w.Table} | {(w.Triggers ? "yes" : "no")} | {(!w.Triggers ? "-" : w.Notify ? "yes" : r.WriteCost.Any(x => x.Notify) ? "disabled" : "none (core v2)")} | {w.SynchronousCommit} | {w.Writers} | {w.InsertsPerSecond:N0} | {(plain is null ? "" : F(w.InsertsPerSecond / plain.InsertsPerSecond * 100, 0) + " %")} | {F(w.HubCpuSeconds, 2)} |");
        }
        s.AppendLine();

        if (r.State.Count > 0)
        {
            s.AppendLine("## Live state (issue 15)").AppendLine();
            s.AppendLine("Time from sending `GET /api/v1/state?project=…` to the last byte of the body, requests one after the other, while a writer updates the project's entities and one transaction holds an xid open.").AppendLine();
            s.AppendLine("Times in ms. *hub CPU per request*: the hub's CPU time (utime + stime) over the requests, less what it used per second with the writer alone (measured for 4 s before them), per request. *database per request*: the statement's mean execution time in PostgreSQL (`pg_stat_statements`, calls in the requests' window).").AppendLine();
            s.AppendLine("| project | log events | entities | body | requests | first | p50 | p99 | max | mean | writer/s | hub CPU per request | database per request |");
            s.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var st in r.State)
                s.AppendLine($"| {st.Project} | {st.LogRows:N0} | {st.Entities:N0} | {st.BodyBytes / 1048576.0:F2} MiB | {st.Requests} | {F(st.FirstMs)} | {F(st.P50Ms)} | {F(st.P99Ms)} | {F(st.MaxMs)} | {F(st.MeanMs)} | {F(st.WriterRate)} | {F(st.HubCpuPerRequestMs)} | {F(st.ServerMeanMs, 1)} (× {st.ServerCalls}) |");
            s.AppendLine();
            if (r.StateWays.Count > 0)
            {
                s.AppendLine("The same state fetched each way in turn (one request of each per round, under the same writer and open transaction): time from the request to the whole answer read and decoded, in ms.").AppendLine();
                s.AppendLine("| way | requests | entities | p50 | p90 | max | mean |");
                s.AppendLine("|---|---:|---:|---:|---:|---:|---:|");
                foreach (var w in r.StateWays)
                    s.AppendLine($"| {w.Way} | {w.Requests} | {w.Entities:N0} | {F(w.P50Ms)} | {F(w.P90Ms)} | {F(w.MaxMs)} | {F(w.MeanMs)} |");
                s.AppendLine();
            }
            foreach (var st in r.State)
                s.AppendLine($"Hub CPU: {F(st.HubCpuSeconds, 2)} s over {F(st.RequestsWallSeconds)} s of requests; {F(st.HubCoresWriterOnly, 3)} cores with the writer alone.").AppendLine();
            foreach (var st in r.State)
            {
                s.AppendLine($"Log built in {st.BuildSeconds:N0} s ({st.BuildTransactions} transactions, {st.Ticks} ticks). Load average (1/5/15 min) before and after the section: {string.Join(" / ", st.LoadBefore.Select(x => F(x, 2)))} → {string.Join(" / ", st.LoadAfter.Select(x => F(x, 2)))}.").AppendLine();
                s.AppendLine("Table statistics (`pg_stat_user_tables`; no manual ANALYZE or VACUUM was run):").AppendLine();
                s.AppendLine("| when | table | live | dead | pages | modified since analyze | autovacuum | autoanalyze |").AppendLine("|---|---|---:|---:|---:|---:|---|---|");
                foreach (var (when, list) in new[] { ("after the build", st.TablesAfterBuild), ("after the requests", st.TablesAfterRequests) })
                    foreach (var t in list)
                        s.AppendLine($"| {when} | {t.Table} | {t.LiveTuples:N0} | {t.DeadTuples:N0} | {t.Pages:N0} | {t.ModifiedSinceAnalyze:N0} | {(t.AutovacuumCount == 0 ? "never" : $"{t.AutovacuumCount}×, last {t.LastAutovacuum}")} | {(t.AutoanalyzeCount == 0 ? "never" : $"{t.AutoanalyzeCount}×, last {t.LastAutoanalyze}")} |");
                s.AppendLine();
                s.AppendLine("The state read's plan (LiveStateReader's SQL, a session with the hub's settings, during the writer and the open transaction):").AppendLine();
                s.AppendLine("```").AppendLine(st.Plan).AppendLine("```").AppendLine();
            }
        }

        if (r.Notes.Count > 0)
        {
            s.AppendLine("## Notes").AppendLine();
            foreach (var n in r.Notes) s.AppendLine("- " + n);
            s.AppendLine();
        }
        return s.ToString();
    }

    private static string Fmt(object v) => v switch
    {
        int[] a => string.Join(", ", a),
        double[] d => string.Join(", ", d),
        string[] ss => string.Join(", ", ss),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}
