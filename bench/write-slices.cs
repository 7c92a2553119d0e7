#:project EventHub.Bench/EventHub.Bench.csproj
#:property Configuration=Release
// The write cost (issue 13, point 5) with the writers alternating between the two tables in one
// continuous run: 8 writers insert single-row autocommit INSERTs, all into the plain table
// (bench_pr_plain: the foreign key, no trigger) or all into the trigger table (bench_pr: the
// change-log trigger), switching together every SLICE ms for SECONDS; cost = 1 - trigger
// inserts/s / plain inserts/s. Both tables see the same minutes of this machine's disk and CPU.
// What it does not measure: work that follows the writes (the hub's once-a-second fold, the ticker's
// quick looks for a second after a load stops, autovacuum) falls on the plain slices too, so the
// cost it gives is lower than the bench's, whose cells are measured apart (5 s slices: the plain
// slices ran ~10 % slower with the hub ticking than without; 1 s slices gave ~5 % where 5 s gave
// 14-22 %; bench/results/2026-12-05-write-cost-methods.md). Use it to split the writers' own share
// from what follows: no hub against Ticker:Enabled=false against the default.
//
//   dotnet run bench/write-slices.cs -- "<connection string of the hub's database>" [SECONDS] [SLICE_MS] [--reconnect]
//
// --reconnect: each writer opens a new connection for every slice (as the bench's cells do).
// Creates the bench's tables (BenchSchema) in that database if missing; run it with the hub of that
// database running (or stopped, or with Ticker:Enabled=false, to split the cost).
using System.Diagnostics;
using EventHub.Bench;
using Npgsql;

var cs = args[0];
var seconds = args.Length > 1 ? double.Parse(args[1]) : 40;
var sliceMs = args.Length > 2 ? double.Parse(args[2]) : 5000;
var reconnect = args.Contains("--reconnect");
await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
await BenchSchema.ApplyAsync(db, 170);
var note = BenchSchema.Note(170);
string[] tables = ["bench_pr_plain", "bench_pr"];
var inserts = new long[2];
var sliceTicks = (long)(sliceMs / 1000 * Stopwatch.Frequency);
var start = Stopwatch.GetTimestamp();
var end = start + (long)(seconds * Stopwatch.Frequency);
long Slice(long t) => (t - start) / sliceTicks;

await Task.WhenAll(Enumerable.Range(0, 8).Select(async w =>
{
    var i = 0;
    while (Stopwatch.GetTimestamp() < end)
    {
        var slice = Slice(Stopwatch.GetTimestamp());
        await using var c = await db.OpenConnectionAsync();
        var commands = tables.Select(t =>
        {
            var cmd = new NpgsqlCommand($"INSERT INTO {t} (url, session_id, ci_state, note) VALUES ($1, $2, 'passing', $3)", c);
            cmd.Parameters.Add(new NpgsqlParameter { Value = "" });
            cmd.Parameters.Add(new NpgsqlParameter { Value = BenchSchema.Session });
            cmd.Parameters.Add(new NpgsqlParameter { Value = note });
            return cmd;
        }).ToArray();
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            if (now >= end || (reconnect && Slice(now) != slice)) break;
            var table = (int)(Slice(now) % 2); // an insert counts for the slice it started in
            commands[table].Parameters[0].Value = $"https://git.example/bench/pull/s{start}-w{w}-{i++}";
            await commands[table].ExecuteNonQueryAsync();
            Interlocked.Increment(ref inserts[table]);
        }
    }
}));
// Whole slices alternate, so each table had half of the run (the run should be an even number of slices).
var plain = inserts[0] / (seconds / 2);
var trigger = inserts[1] / (seconds / 2);
Console.WriteLine($"plain {plain:F0}/s, trigger {trigger:F0}/s, cost {100 * (1 - trigger / plain):F1} % ({seconds} s, {sliceMs} ms slices{(reconnect ? ", a new connection per slice" : "")})");
