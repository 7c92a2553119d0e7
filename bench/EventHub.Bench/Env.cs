using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace EventHub.Bench;

/// <summary>A process's garbage collections so far: total pause (ms), collections per generation, bytes allocated.</summary>
public sealed record GcTotals(double PauseMs, long Gen0, long Gen1, long Gen2, long AllocatedBytes, long JitMethods = 0, double JitMs = 0)
{
    /// <summary>
    /// "pause ms (gen0/gen1/gen2 collections), MB allocated; JIT methods / ms" between two readings.
    /// The JIT part is a young process's tier-up: methods compiled (again, optimized) meanwhile and the
    /// JIT's time, on the same cores as everything else.
    /// </summary>
    public static string Describe(GcTotals? a, GcTotals? b) =>
        a is null || b is null ? "n/a"
            : $"{b.PauseMs - a.PauseMs:F1} ({b.Gen0 - a.Gen0}/{b.Gen1 - a.Gen1}/{b.Gen2 - a.Gen2}), {(b.AllocatedBytes - a.AllocatedBytes) / 1e6:F0} MB; JIT {b.JitMethods - a.JitMethods} methods / {b.JitMs - a.JitMs:F0} ms";
}

/// <summary>A server process the bench started (the hub, or the naive baseline): its CPU time and resident set.</summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    public Uri BaseUri { get; }
    public string Name { get; }
    public int Pid => _process.Id;

    private ServerProcess(string name, Process process, Uri baseUri, Uri managementUri)
    {
        Name = name;
        _process = process;
        BaseUri = baseUri;
        ManagementUri = managementUri;
    }

    /// <summary>The hub's management port (<c>/metrics</c>); other servers ignore the setting.</summary>
    public Uri ManagementUri { get; }

    public static async Task<ServerProcess> StartAsync(string name, string dll, string[] args, Dictionary<string, string> env,
        string readyPath, string workingDirectory)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        var managementPort = FreePort();
        start.Environment["Management__Urls"] = $"http://127.0.0.1:{managementPort}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {name}");
        var log = Path.Combine(Path.GetTempPath(), $"eventhub-bench-{name}-{process.Id}.log");
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(name, process, new Uri($"http://127.0.0.1:{port}"), new Uri($"http://127.0.0.1:{managementPort}"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 120; i++)
        {
            if (process.HasExited) throw new InvalidOperationException($"{name} exited with {process.ExitCode}; see {log}");
            try
            {
                if ((await http.GetAsync(new Uri(server.BaseUri, readyPath))).IsSuccessStatusCode) return server;
            }
            catch (Exception) { }
            await Task.Delay(500);
        }
        throw new TimeoutException($"{name} did not become ready; see {log}");
    }

    /// <summary>
    /// The hub's garbage collections so far, from its <c>/metrics</c> (the runtime's own counters):
    /// total pause in ms, collections of gen 0, 1 and 2 bytes allocated, and methods the JIT compiled and its time; null when the server has no such page.
    /// </summary>
    public async Task<GcTotals?> GcTotalsAsync()
    {
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var text = await http.GetStringAsync(new Uri(ManagementUri, "/metrics"));
            double pause = -1;
            long g0 = 0, g1 = 0, g2 = 0, allocated = 0, jitMethods = 0;
            double jitMs = 0;
            static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            foreach (var line in text.Split('\n'))
            {
                if (line.StartsWith("dotnet_gc_heap_total_allocated_bytes_total", StringComparison.Ordinal))
                    allocated = (long)Value(line);
                else if (line.StartsWith("dotnet_jit_compiled_methods_total", StringComparison.Ordinal))
                    jitMethods = (long)Value(line);
                else if (line.StartsWith("dotnet_jit_compilation_time_seconds_total", StringComparison.Ordinal))
                    jitMs = Value(line) * 1000;
                else if (line.StartsWith("dotnet_gc_pause_time_seconds_total", StringComparison.Ordinal))
                    pause = Value(line) * 1000;
                else if (line.StartsWith("dotnet_gc_collections_total", StringComparison.Ordinal))
                {
                    var n = (long)Value(line);
                    if (line.Contains("\"gen0\"", StringComparison.Ordinal)) g0 = n;
                    else if (line.Contains("\"gen1\"", StringComparison.Ordinal)) g1 = n;
                    else if (line.Contains("\"gen2\"", StringComparison.Ordinal)) g2 = n;
                }
            }
            return pause < 0 ? null : new GcTotals(pause, g0, g1, g2, allocated, jitMethods, jitMs);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>User + system CPU seconds of the process so far (/proc/pid/stat fields 14 and 15).</summary>
    public double CpuSeconds() => Machine.ProcessCpuSeconds(Pid) ?? 0;

    /// <summary>VmRSS in bytes.</summary>
    public long RssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process.HasExited) return;
        try
        {
            Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (Exception)
        {
            _process.Kill(entireProcessTree: true);
        }
    }

    public static int FreePort() => EventHub.Storage.LoopbackPorts.Free();
}

public static class Machine
{
    /// <summary>User + system CPU seconds of a process so far (/proc/pid/stat fields 14 and 15); null once it is gone.</summary>
    public static double? ProcessCpuSeconds(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / 100.0; // USER_HZ
    }

    public static double[] LoadAverage()
    {
        var parts = File.ReadAllText("/proc/loadavg").Split(' ');
        return [.. parts.Take(3).Select(p => double.Parse(p, CultureInfo.InvariantCulture))];
    }

    public static long MemoryBytes()
    {
        foreach (var line in File.ReadLines("/proc/meminfo"))
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    public static string Os()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal)) return line[12..].Trim('"') + ", kernel " + Environment.OSVersion.Version;
        }
        catch (IOException) { }
        return Environment.OSVersion.ToString();
    }

    public static string Cpu()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return "?";
    }
}

/// <summary>The bench-only schema: a source table like <c>pr</c> with a padding column and a trigger into change_log, and its trigger-less copy.</summary>
public static class BenchSchema
{
    public const string Project = "bench";
    public const string Session = "bench-1";

    public static async Task ApplyAsync(NpgsqlDataSource db, int noteLength)
    {
        await using var c = await db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand($"""
            CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
            INSERT INTO projects (id, path) VALUES ('{Project}', '/bench') ON CONFLICT DO NOTHING;
            INSERT INTO sessions (id, project_id, num) VALUES ('{Session}', '{Project}', 1) ON CONFLICT DO NOTHING;
            CREATE TABLE IF NOT EXISTS bench_pr (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                url text NOT NULL, session_id text NOT NULL REFERENCES sessions (id),
                pr_state text NOT NULL DEFAULT 'open', ci_state text NOT NULL DEFAULT 'pending',
                review_decision text NOT NULL DEFAULT 'none', mergeability text NOT NULL DEFAULT 'mergeable',
                note text NOT NULL DEFAULT '', updated_at timestamptz NOT NULL DEFAULT now());
            -- The baseline: the same table, foreign key included, without the change-log trigger.
            -- LIKE copies no foreign key, and the key costs the writers as much as a tenth of their
            -- throughput here (8 writers lock the one session row FOR KEY SHARE: a MultiXact per
            -- insert); results before 2026-12-02-fk-baseline compared against a table without it,
            -- kept as bench_pr_nofk for comparison with them.
            CREATE TABLE IF NOT EXISTS bench_pr_plain (LIKE bench_pr INCLUDING ALL);
            CREATE TABLE IF NOT EXISTS bench_pr_nofk (LIKE bench_pr INCLUDING ALL);
            DO $fk$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = 'bench_pr_plain'::regclass AND contype = 'f') THEN
                    ALTER TABLE bench_pr_plain ADD FOREIGN KEY (session_id) REFERENCES sessions (id);
                END IF;
            END $fk$;
            -- The trigger of pr (a session lookup, a jsonb payload, one change_log row with the
            -- writer's transaction id), with a padding field so that events are ~300 bytes of payload.
            CREATE OR REPLACE FUNCTION bench_change_log_pr() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE project text;
            BEGIN
                SELECT s.project_id INTO project FROM sessions s WHERE s.id = NEW.session_id;
                INSERT INTO change_log (project_id, session_id, event_type, payload)
                VALUES (project, NEW.session_id, 'pr_updated',
                        jsonb_build_object('url', NEW.url, 'session', NEW.session_id, 'state', NEW.pr_state,
                                           'ci', NEW.ci_state, 'review', NEW.review_decision,
                                           'mergeability', NEW.mergeability, 'note', NEW.note));
                RETURN NULL;
            END $$;
            DROP TRIGGER IF EXISTS bench_pr_change_log ON bench_pr;
            CREATE TRIGGER bench_pr_change_log AFTER INSERT ON bench_pr FOR EACH ROW EXECUTE FUNCTION bench_change_log_pr();
            """, c);
        await cmd.ExecuteNonQueryAsync();
        _ = noteLength;
    }

    public static string Note(int length) => new string('x', length);
}

/// <summary>
/// Open-loop writer: event i is due at start + i/rate, taken by whichever of its connections is free.
/// Each event is one transaction: INSERT into bench_pr (the trigger writes change_log), read the
/// seq it got, COMMIT; the commit time is taken when COMMIT returns.
/// </summary>
public sealed class Writer(NpgsqlDataSource db, Timeline timeline, string note)
{
    /// <summary><paramref name="SlowestCommitMs"/>: the longest COMMIT, <paramref name="SlowestCommitAt"/> when it returned (Stopwatch timestamp).</summary>
    public sealed record Result(long Written, double Seconds, long FirstSeq, long LastSeq, long Failed, double SlowestCommitMs = 0, long SlowestCommitAt = 0);

    /// <summary>
    /// Writes at <paramref name="rate"/> for <paramref name="duration"/>, the events of <paramref name="cell"/>;
    /// with <paramref name="warmUpEvents"/>, that many events of <paramref name="warmUpCell"/> come first in
    /// the same open loop, without a pause (the result counts only the cell's events).
    /// </summary>
    public async Task<Result> RunAsync(double rate, TimeSpan duration, int cell, int connections, CancellationToken cancellationToken = default,
        long warmUpEvents = 0, int warmUpCell = 0)
    {
        var total = warmUpEvents + (long)Math.Max(1, Math.Round(rate * duration.TotalSeconds));
        var start = Stopwatch.GetTimestamp();
        var hardStop = start + (long)((warmUpEvents / rate + duration.TotalSeconds * 3 + 5) * Stopwatch.Frequency);
        long next = -1, written = 0, failed = 0, first = long.MaxValue, last = 0, slowestCommit = 0, slowestCommitAt = 0;
        var tasks = Enumerable.Range(0, connections).Select(async _ =>
        {
            await using var c = await db.OpenConnectionAsync(cancellationToken);
            var url = new NpgsqlParameter { Value = "https://git.example/bench/pull/1" };
            await using var insert = new NpgsqlBatch(c)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("INSERT INTO bench_pr (url, session_id, ci_state, note) VALUES ($1, $2, 'passing', $3)")
                    {
                        Parameters = { url, new NpgsqlParameter { Value = BenchSchema.Session }, new NpgsqlParameter { Value = note } },
                    },
                    new NpgsqlBatchCommand("SELECT currval('change_log_seq_seq')"),
                },
            };
            while (!cancellationToken.IsCancellationRequested)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= total || Stopwatch.GetTimestamp() > hardStop) break;
                var due = start + (long)(i * Stopwatch.Frequency / rate);
                var wait = due - Stopwatch.GetTimestamp();
                if (wait > Stopwatch.Frequency / 1000)
                    await Task.Delay(TimeSpan.FromTicks(wait * TimeSpan.TicksPerSecond / Stopwatch.Frequency), cancellationToken);
                try
                {
                    await using var tx = await c.BeginTransactionAsync(cancellationToken);
                    insert.Transaction = tx;
                    url.Value = $"https://git.example/bench/pull/{i}";
                    var seq = (long)(await insert.ExecuteScalarAsync(cancellationToken))!;
                    var warmUp = i < warmUpEvents;
                    timeline.Assign(seq, warmUp ? warmUpCell : cell);
                    var commitStart = Stopwatch.GetTimestamp();
                    await tx.CommitAsync(cancellationToken);
                    var committed = Stopwatch.GetTimestamp();
                    timeline.Committed(seq, committed);
                    if (warmUp) continue;
                    Interlocked.Increment(ref written);
                    lock (this)
                    {
                        first = Math.Min(first, seq); last = Math.Max(last, seq);
                        // A COMMIT waits for the WAL's flush; a slow one says the disk stalled, and a
                        // tick's commit waits for the same flush.
                        if (committed - commitStart > slowestCommit) (slowestCommit, slowestCommitAt) = (committed - commitStart, committed);
                    }
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException or InvalidCastException)
                {
                    if (Interlocked.Increment(ref failed) == 1) Console.Error.WriteLine("writer: " + e.Message);
                }
            }
        }).ToList();
        await Task.WhenAll(tasks);
        var seconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency - warmUpEvents / rate;
        return new Result(written, seconds, first == long.MaxValue ? 0 : first, last, failed,
            slowestCommit * 1000.0 / Stopwatch.Frequency, slowestCommitAt);
    }
}
