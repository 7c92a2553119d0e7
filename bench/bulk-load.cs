#:package Npgsql@10.0.3
// What a bulk load does to everyone else's stream: a writer commits one event of project `p2` every
// 100 ms while one transaction inserts ROWS events of project `p1` (each a new live-state entity,
// `pr_updated` with its own url) straight into change_log; an SSE client of `p2` reports each of
// its events' latency, commit to receipt. Other writers' commits make ticks during the load, so the
// load's rows reach readers through the next tick's ended xids, as any bulk load on a live system.
//
//   dotnet run bench/bulk-load.cs -- "<connection string of the hub's database>" <hub base URL> [ROWS]
//
// Run against a hub with its own database (the rows stay in its log). Prints every 5th marker.
using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

var cs = args[0];
var hubUrl = args[1].TrimEnd('/');
var rows = args.Length > 2 ? int.Parse(args[2]) : 300_000;
var committed = new ConcurrentDictionary<int, long>();
var received = new ConcurrentDictionary<int, long>();
using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
using var response = await http.GetAsync($"{hubUrl}/api/v1/events?project=p2", HttpCompletionOption.ResponseHeadersRead);
response.EnsureSuccessStatusCode();
var stream = await response.Content.ReadAsStreamAsync();
_ = Task.Run(async () =>
{
    using var reader = new StreamReader(stream);
    while (await reader.ReadLineAsync() is { } line)
    {
        var at = line.IndexOf("\"m\":", StringComparison.Ordinal);
        if (!line.StartsWith("data:", StringComparison.Ordinal) || at < 0) continue;
        var end = line.IndexOfAny([',', '}'], at + 4);
        received[int.Parse(line[(at + 4)..end].Trim('"', ' '))] = Stopwatch.GetTimestamp();
    }
});
await Task.Delay(500);
var start = Stopwatch.GetTimestamp();
double Ms(long t) => (t - start) * 1000.0 / Stopwatch.Frequency;
using var stop = new CancellationTokenSource();
var markers = Task.Run(async () =>
{
    await using var c = new NpgsqlConnection(cs);
    await c.OpenAsync();
    for (var m = 0; !stop.IsCancellationRequested; m++)
    {
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO change_log (project_id, event_type, payload) VALUES ('p2', 'bulk_load_marker', '{{\"m\": {m}}}')", c))
            await insert.ExecuteNonQueryAsync();
        committed[m] = Stopwatch.GetTimestamp();
        await Task.Delay(100);
    }
});
await Task.Delay(1000);
var loadStart = Stopwatch.GetTimestamp();
await using (var c = new NpgsqlConnection(cs))
{
    await c.OpenAsync();
    await using var load = new NpgsqlCommand($"""
        INSERT INTO change_log (project_id, event_type, payload)
        SELECT 'p1', 'pr_updated', jsonb_build_object('url', 'https://example.test/pr/' || i || '-' || {Environment.TickCount64},
                                                      'state', 'open', 'pad', repeat('x', 80))
        FROM generate_series(1, {rows}) i
        """, c) { CommandTimeout = 0 };
    await load.ExecuteNonQueryAsync();
}
var loadEnd = Stopwatch.GetTimestamp();
Console.WriteLine($"load of {rows:N0} rows: {Ms(loadStart):F0} -> {Ms(loadEnd):F0} ms after the start");
await Task.Delay(3000);
while (committed.Keys.Any(k => !received.ContainsKey(k)) && Ms(Stopwatch.GetTimestamp()) - Ms(loadEnd) < 300_000) await Task.Delay(50);
await Task.Delay(1000);
await stop.CancelAsync();
await markers;
var latencies = new List<double>();
foreach (var m in committed.Keys.Order())
{
    var latency = received.TryGetValue(m, out var r) ? (r - committed[m]) * 1000.0 / Stopwatch.Frequency : double.NaN;
    latencies.Add(latency);
    if (m % 5 == 0)
        Console.WriteLine($"marker {m,4} committed at {Ms(committed[m]),8:F0} ms: {(double.IsNaN(latency) ? "not received" : $"{latency:F1} ms")}");
}
Console.WriteLine($"slowest marker: {latencies.Max():F0} ms; markers not received: {latencies.Count(double.IsNaN)}");
