#:package Npgsql@10.0.3
// Where an event's latency goes, stage by stage: a writer commits one event of project `stages`
// every 10 ms (open loop) while SUBSCRIBERS SSE clients of that project read the stream (the first
// one takes receive times); then, per event, from the database's own clocks:
//   writer's commit (pg_xact_commit_timestamp of the row) -> its COMMIT returned to the writer;
//   COMMIT returned -> its tick stored (eventhub_tick.created_at: clock_timestamp() in the tick's statement);
//   tick stored -> the tick's commit (pg_xact_commit_timestamp of the tick row: the rest of the tick's statement);
//   the tick's commit -> received (its WAL flush, the ticker's read, the hand-off, the fan-out, the client).
// One machine, one clock: the database's timestamps and the client's UTC times compare within microseconds.
//
//   dotnet run bench/tick-stages.cs -- "<connection string of the hub's database>" <hub base URL> [EVENTS] [SUBSCRIBERS]
//
// Needs `track_commit_timestamp = on` (a server restart) and the hub's source tables (it inserts
// sessions). Prints p50/p90 of each stage.
using System.Collections.Concurrent;
using Npgsql;

var cs = args[0];
var hub = args[1].TrimEnd('/');
var events = args.Length > 2 ? int.Parse(args[2]) : 1000;
var subscribers = args.Length > 3 ? int.Parse(args[3]) : 1;
var run = $"stages-{DateTime.UtcNow.Ticks % 100_000}-";
await using var ds = NpgsqlDataSource.Create(cs);
await using (var c = ds.CreateCommand("SELECT current_setting('track_commit_timestamp')"))
    if ((string?)await c.ExecuteScalarAsync() != "on") throw new InvalidOperationException("set track_commit_timestamp = on and restart the server");
await using (var c = ds.CreateCommand("INSERT INTO projects (id, path) VALUES ('stages', '/stages') ON CONFLICT DO NOTHING"))
    await c.ExecuteNonQueryAsync();

var received = new ConcurrentDictionary<int, DateTime>();
var open = 0;
for (var s = 0; s < subscribers; s++)
{
    var timed = s == 0;
    _ = Task.Run(async () =>
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var response = await http.GetAsync($"{hub}/api/v1/events?project=stages", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Interlocked.Increment(ref open);
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!timed || !line.StartsWith("data:", StringComparison.Ordinal)) continue;
            var at = DateTime.UtcNow;
            var i = line.IndexOf(run, StringComparison.Ordinal);
            if (i < 0) continue;
            var from = i + run.Length;
            var to = from;
            while (char.IsAsciiDigit(line[to])) to++;
            received[int.Parse(line[from..to])] = at;
        }
    });
}
while (Volatile.Read(ref open) < subscribers) await Task.Delay(10);
await Task.Delay(500);

var returned = new DateTime[events];
var num = (int)(DateTime.UtcNow.Ticks % 100_000) * 10_000;
var start = DateTime.UtcNow;
await using (var writer = await ds.OpenConnectionAsync())
    for (var i = 0; i < events; i++)
    {
        var wait = start.AddMilliseconds(i * 10) - DateTime.UtcNow;
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        await using var insert = new NpgsqlCommand("INSERT INTO sessions (id, project_id, num) VALUES (@id, 'stages', @num)", writer);
        insert.Parameters.AddWithValue("id", run + i);
        insert.Parameters.AddWithValue("num", num + i);
        await insert.ExecuteNonQueryAsync();
        returned[i] = DateTime.UtcNow;
    }
var until = DateTime.UtcNow.AddSeconds(10);
while (received.Count < events && DateTime.UtcNow < until) await Task.Delay(50);

// Each event's tick: the first tick whose snapshot sees its transaction.
var stages = new List<double>[4];
for (var s = 0; s < stages.Length; s++) stages[s] = [];
var total = new List<double>();
await using (var c = await ds.OpenConnectionAsync())
await using (var q = new NpgsqlCommand("""
    SELECT substr(l.payload->>'id', length(@run) + 1)::int, pg_xact_commit_timestamp(l.xmin), t.created_at, pg_xact_commit_timestamp(t.xmin)
    FROM change_log l
    CROSS JOIN LATERAL (SELECT t.xmin, t.created_at FROM eventhub_tick t
                        WHERE t.tick_id > (SELECT max(tick_id) - 10 * @events FROM eventhub_tick)
                          AND pg_visible_in_snapshot(l.tx_id, t.snap)
                        ORDER BY t.tick_id LIMIT 1) t
    WHERE l.project_id = 'stages' AND l.payload->>'id' LIKE @run || '%'
    """, c))
{
    q.Parameters.AddWithValue("run", run);
    q.Parameters.AddWithValue("events", events);
    await using var r = await q.ExecuteReaderAsync();
    while (await r.ReadAsync())
    {
        var i = r.GetInt32(0);
        if (!received.TryGetValue(i, out var at)) continue;
        DateTime[] marks = [r.GetDateTime(1), returned[i], r.GetDateTime(2), r.GetDateTime(3), at];
        for (var s = 0; s < stages.Length; s++) stages[s].Add((marks[s + 1] - marks[s]).TotalMilliseconds);
        total.Add((at - returned[i]).TotalMilliseconds);
    }
}
static string P(List<double> v) { v.Sort(); return v.Count == 0 ? "-" : $"{v[v.Count / 2]:F2} / {v[(int)(v.Count * 0.9)]:F2}"; }
Console.WriteLine($"{subscribers} subscriber(s), {total.Count} of {events} events received; p50 / p90 ms:");
Console.WriteLine($"  writer's commit -> COMMIT returned     {P(stages[0])}");
Console.WriteLine($"  COMMIT returned -> tick stored         {P(stages[1])}");
Console.WriteLine($"  tick stored -> tick's commit           {P(stages[2])}");
Console.WriteLine($"  tick's commit -> first client          {P(stages[3])}");
Console.WriteLine($"  COMMIT returned -> first client        {P(total)}");
Environment.Exit(0); // the readers' loops never end
