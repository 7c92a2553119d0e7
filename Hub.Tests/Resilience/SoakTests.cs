using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A bounded soak on two hub nodes of one database: writers with out-of-order commits and
/// rollbacks, a writer that holds its transaction open for seconds, a transaction that holds an xid
/// in another database of the cluster, and one bulk transaction per round; SSE and SignalR
/// subscribers that disconnect at random, stall, and resume from their offsets on either node
/// (offsets are global). Each round stops and restarts one node (in this process), kills the other
/// (SIGKILL, a process of its own) and starts it again, and restarts the database (the first and
/// every other round after a crash). At the end every subscriber holds exactly the committed
/// events of its projects, in log order, both nodes replay the log alike, and both serve the live
/// state the log gives. One round in CI; <c>EVENTHUB_SOAK_ROUNDS</c> runs more, by hand.
/// </summary>
[Collection(AloneCollection.Name)] // holds transactions open: on the shared cluster they would stall every other test's stream (issue 13)
public sealed class SoakTests(ITestOutputHelper output)
{
    private static readonly string[] Projects = ["ao", "web", "infra"];

    private static int Rounds => int.TryParse(Environment.GetEnvironmentVariable("EVENTHUB_SOAK_ROUNDS"), out var n) && n > 0 ? n : 1;

    [Fact]
    public async Task Subscribers_end_with_exactly_the_committed_events_through_restarts_kills_long_transactions_and_two_nodes()
    {
        var rounds = Rounds;
        await using var cluster = await PrivateCluster.CreateAsync("soak");
        var portA = LoopbackPorts.Free();
        var portB = LoopbackPorts.Free();
        var settings = new Dictionary<string, string?> { ["Stream:PollInterval"] = "00:00:00.200", ["Stream:SubscriberBufferCapacity"] = "64" };
        var processSettings = settings.ToDictionary(x => x.Key.Replace(":", "__"), x => x.Value!);
        HubServer? a = await HubServer.StartAsync(cluster.ConnectionString, settings, portA);
        HubProcess? b = await HubProcess.StartAsync(cluster.ConnectionString, portB, processSettings);
        Uri[] nodes = [a.BaseAddress, b.BaseAddress];
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        await using (var c = await dataSource.OpenConnectionAsync())
            await c.ExecuteAsync("CREATE DATABASE elsewhere");
        await using var elsewhere = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = "elsewhere" }.ConnectionString);
        try
        {
            foreach (var p in Projects) await new SourceWriter(dataSource).ProjectAsync(p);
            using var stop = new CancellationTokenSource();
            var committed = new ConcurrentBag<(string Project, string Id)>();
            var uncertain = new ConcurrentBag<(string Project, string Id)>();
            var writers = Enumerable.Range(0, 4).Select(w => WriteAsync(dataSource, w, committed, uncertain, stop.Token))
                .Append(WriteAsync(dataSource, 4, committed, uncertain, stop.Token, holdSeconds: (1, 3)))
                .Append(HoldXidsAsync(elsewhere, stop.Token)).ToList();

            var subscribers = new List<Subscriber>
            {
                new SseSubscriber(nodes, ["ao"], seed: 1),
                new SseSubscriber(nodes, ["web", "infra"], seed: 2),
                new SseSubscriber(nodes, [], seed: 3),
                new HubSubscriber(nodes, ["ao"], messagePack: false, seed: 4),
                new HubSubscriber(nodes, ["infra"], messagePack: true, seed: 5),
                new HubSubscriber(nodes, [], messagePack: true, seed: 6),
            };
            var deadline = TimeSpan.FromMinutes(2) + rounds * TimeSpan.FromSeconds(30);
            var running = subscribers.Select(s => s.RunAsync(deadline)).ToList();

            for (var round = 0; round < rounds; round++)
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                await a.DisposeAsync(); // a node stops and starts again
                a = await HubServer.StartAsync(cluster.ConnectionString, settings, portA);
                await Task.Delay(TimeSpan.FromSeconds(2));
                await b.KillAsync(); // the other dies without a goodbye
                await b.DisposeAsync();
                b = null;
                b = await HubProcess.StartAsync(cluster.ConnectionString, portB, processSettings);
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                await BulkAsync(dataSource, round, committed, uncertain); // one transaction of many events
                await Task.Delay(TimeSpan.FromSeconds(1.5));
                // The database restarts, every other time (the first) after a crash (immediate stop), whose
                // recovery empties the unlogged live state (migration 0016) for the hub to rebuild.
                await (round % 2 == 0 ? cluster.StopImmediatelyAsync() : cluster.StopAsync());
                await Task.Delay(TimeSpan.FromMilliseconds(500));
                await cluster.StartAsync();
            }
            await Task.Delay(TimeSpan.FromSeconds(2));

            await stop.CancelAsync();
            await Task.WhenAll(writers).WithTimeout(TimeSpan.FromSeconds(30));
            // Writes whose commit failed mid-restart: the row exists exactly when its event does.
            NpgsqlConnection.ClearAllPools();
            await using (var c = await dataSource.OpenConnectionAsync())
                foreach (var u in uncertain)
                    if (await c.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM sessions WHERE id = @Id)", new { u.Id }))
                        committed.Add(u);
            // Sentinels: after them nothing else is coming.
            foreach (var s in subscribers) s.FinishWhenSentinelsSeen(Projects);
            foreach (var p in Projects) await new SourceWriter(dataSource).SessionAsync(p, 999_999);
            await Task.WhenAll(running).WithTimeout(deadline);

            // The log's own order, replayed from the start over SSE, from each node.
            var total = committed.Count + Projects.Length;
            var replays = new List<List<(string Project, string Id, string Offset)>>();
            foreach (var node in nodes)
            {
                await using var replay = await SseTestClient.ConnectAsync(node, "after=0");
                replays.Add((await replay.ReadEventsAsync(total, TimeSpan.FromSeconds(30)))
                    .Select(f => (Project: f.ProjectId, Id: f.Payload.GetProperty("id").GetString()!, Offset: f.Id!)).ToList());
            }
            var order = replays[0];
            Assert.Equal(committed.Select(c => c.Id).Concat(Projects.Select(p => $"{p}-999999")).Order(), order.Select(o => o.Id).Order());
            Assert.Equal(order, replays[1]); // the same events, offsets and order on both nodes

            // The live state on each node: every session's one event, as the log has it.
            var sessionOffsets = order.ToDictionary(o => o.Id, o => o.Offset);
            foreach (var node in nodes)
            {
                using var http = new HttpClient { BaseAddress = node };
                using var state = JsonDocument.Parse(await http.GetStringAsync("/api/v1/state"));
                var sessions = state.RootElement.GetProperty("entities").EnumerateArray()
                    .Where(e => e.GetProperty("kind").GetString() == "session")
                    .ToDictionary(e => e.GetProperty("key")[0].GetString()!, e => e.GetProperty("event").GetProperty("offset").GetString()!);
                Assert.Equal(sessionOffsets.OrderBy(x => x.Key, StringComparer.Ordinal), sessions.OrderBy(x => x.Key, StringComparer.Ordinal));
            }

            output.WriteLine($"{rounds} rounds, {order.Count} events; " +
                string.Join("; ", subscribers.Select(s => $"{s}: {s.Received.Count} events, {s.Reconnects} connections")));
            foreach (var s in subscribers)
            {
                Assert.Empty(s.Unexpected);
                var expected = order.Where(o => s.Projects.Length == 0 || s.Projects.Contains(o.Project)).Select(o => o.Offset).ToList();
                Assert.True(expected.SequenceEqual(s.Received),
                    $"{s}: expected {expected.Count} events, got {s.Received.Count} ({s.Received.Count - s.Received.Distinct().Count()} duplicates)");
                Assert.True(s.Reconnects >= 2, $"{s} reconnected only {s.Reconnects} times");
                Assert.True(s.NodesUsed == nodes.Length, $"{s} read from {s.NodesUsed} of the nodes");
            }
        }
        finally
        {
            if (a is not null) await a.DisposeAsync();
            if (b is not null) await b.DisposeAsync();
        }
    }

    /// <summary>One transaction of 2,000 events over every project (a load, as a migration writes one).</summary>
    private static async Task BulkAsync(NpgsqlDataSource dataSource, int round, ConcurrentBag<(string, string)> committed,
        ConcurrentBag<(string, string)> uncertain)
    {
        var rows = Enumerable.Range(0, 2_000).Select(i => (Project: Projects[i % Projects.Length], Num: 9_000_000 + round * 10_000 + i))
            .Select(r => (r.Project, Id: $"{r.Project}-{r.Num}", r.Num)).ToList();
        var committing = false;
        try
        {
            await using var c = await dataSource.OpenConnectionAsync();
            await using var tx = await c.BeginTransactionAsync();
            await c.ExecuteAsync("""
                INSERT INTO sessions (id, project_id, num)
                SELECT r.id, r.project, r.num FROM unnest(@ids::text[], @projects::text[], @nums::int[]) AS r(id, project, num)
                """, new { ids = rows.Select(r => r.Id).ToArray(), projects = rows.Select(r => r.Project).ToArray(), nums = rows.Select(r => r.Num).ToArray() }, tx);
            committing = true;
            await tx.CommitAsync();
            foreach (var r in rows) committed.Add((r.Project, r.Id));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            if (committing) foreach (var r in rows) uncertain.Add((r.Project, r.Id)); // otherwise rolled back
        }
    }

    /// <summary>
    /// Holds an xid in another database of the cluster for a second or two at a time: before the
    /// tick core it held back every stream of this database too (issue 13).
    /// </summary>
    private static async Task HoldXidsAsync(NpgsqlDataSource elsewhere, CancellationToken stop)
    {
        var random = new Random(99);
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var c = await elsewhere.OpenConnectionAsync(CancellationToken.None);
                await using var tx = await c.BeginTransactionAsync();
                await c.ExecuteAsync("SELECT pg_current_xact_id()", transaction: tx);
                await Task.Delay(random.Next(1_000, 2_000), CancellationToken.None);
                await tx.CommitAsync();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                await Task.Delay(100, CancellationToken.None); // the database is restarting
            }
        }
    }

    /// <summary>
    /// Transactions of 1-3 events, some delayed before their commit, some rolled back; with
    /// <paramref name="holdSeconds"/>, each held open that long before its commit (its events come
    /// after those of later commits, at its own commit).
    /// </summary>
    private static async Task WriteAsync(NpgsqlDataSource dataSource, int writer, ConcurrentBag<(string, string)> committed,
        ConcurrentBag<(string, string)> uncertain, CancellationToken stop, (int Min, int Max)? holdSeconds = null)
    {
        var random = new Random(writer);
        for (var t = 0; !stop.IsCancellationRequested; t++)
        {
            var rows = Enumerable.Range(0, random.Next(1, 4))
                .Select(k => (Project: Projects[random.Next(Projects.Length)], Num: writer * 100_000 + t * 10 + k)).ToList();
            var ids = rows.Select(r => (r.Project, Id: $"{r.Project}-{r.Num}")).ToList();
            var committing = false;
            try
            {
                await using var c = await dataSource.OpenConnectionAsync(CancellationToken.None);
                await using var tx = await c.BeginTransactionAsync();
                foreach (var r in rows)
                    await c.ExecuteAsync("INSERT INTO sessions (id, project_id, num) VALUES (@id, @Project, @Num)",
                        new { id = $"{r.Project}-{r.Num}", r.Project, r.Num }, tx);
                if (random.Next(3) == 0) await c.ExecuteAsync("SELECT pg_sleep(@s)", new { s = random.Next(1, 40) / 1000.0 }, tx);
                if (holdSeconds is var (min, max))
                    await Task.Delay(TimeSpan.FromSeconds(min + random.NextDouble() * (max - min)), CancellationToken.None);
                if (random.Next(6) == 0) { await tx.RollbackAsync(); continue; }
                committing = true;
                await tx.CommitAsync();
                foreach (var id in ids) committed.Add(id);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                if (committing) foreach (var id in ids) uncertain.Add(id);
                await Task.Delay(100, CancellationToken.None); // the database is restarting
            }
            await Task.Delay(random.Next(5, 30), CancellationToken.None);
        }
    }


    /// <summary>
    /// A subscriber that keeps its offset and resumes from it whatever happens, on a node picked at
    /// random for each connection.
    /// </summary>
    private abstract class Subscriber(Uri[] nodes, string[] projects, int seed)
    {
        private readonly HashSet<string> _sentinelsWanted = [];
        private readonly HashSet<Uri> _nodesUsed = [];
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _finishing;
        protected readonly Random Random = new(seed);

        public string[] Projects { get; } = projects;
        public List<string> Received { get; } = [];
        /// <summary>What no subscriber of a log that keeps its events may get: a reset.</summary>
        public List<string> Unexpected { get; } = [];
        public string? LastOffset { get; private set; }
        public int Reconnects { get; private set; }
        public int NodesUsed => _nodesUsed.Count;

        public void FinishWhenSentinelsSeen(string[] all)
        {
            lock (_sentinelsWanted)
                foreach (var p in all.Where(p => Projects.Length == 0 || Projects.Contains(p)))
                    _sentinelsWanted.Add($"{p}-999999"); // written after this call, so none is seen yet
            _finishing = true;
        }

        /// <summary>Records an event; returns false once every sentinel has arrived.</summary>
        protected bool Record(string offset, string id)
        {
            Received.Add(offset);
            LastOffset = offset;
            lock (_sentinelsWanted)
            {
                _sentinelsWanted.Remove(id);
                if (_finishing && _sentinelsWanted.Count == 0) { _done.TrySetResult(); return false; }
            }
            return true;
        }

        /// <summary>
        /// A stream's end signal: a stream error (the node stopping, the database away) ends the
        /// connection and the subscriber resumes; a reset is recorded, for the test to fail on.
        /// </summary>
        protected void Ended(string type, string data)
        {
            if (type == "reset") Unexpected.Add(data);
            throw new IOException($"The stream ended: {type} {data}");
        }

        public async Task RunAsync(TimeSpan within)
        {
            var deadline = DateTime.UtcNow + within;
            while (!_done.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                var node = nodes[Random.Next(nodes.Length)];
                try
                {
                    // Disconnect at random after a few events; stall at random while reading.
                    await ReadSessionAsync(node, maxEvents: _finishing ? int.MaxValue : Random.Next(5, 60));
                }
                catch (Exception) when (!_done.Task.IsCompleted)
                {
                    await Task.Delay(100); // a node or the database restarting
                }
                Reconnects++;
            }
            if (!_done.Task.IsCompleted) throw new TimeoutException($"{this} did not see every sentinel.");
        }

        private Task ReadSessionAsync(Uri node, int maxEvents)
        {
            _nodesUsed.Add(node);
            return ReadSessionAsync(node, LastOffset ?? "0", maxEvents);
        }

        protected abstract Task ReadSessionAsync(Uri node, string after, int maxEvents);

        protected async Task MaybeStallAsync()
        {
            if (Random.Next(40) == 0) await Task.Delay(Random.Next(100, 400));
        }
    }

    private sealed class SseSubscriber(Uri[] nodes, string[] projects, int seed) : Subscriber(nodes, projects, seed)
    {
        protected override async Task ReadSessionAsync(Uri node, string after, int maxEvents)
        {
            var query = string.Join("&", Projects.Select(p => $"project={p}").Append($"after={Uri.EscapeDataString(after)}"));
            await using var sse = await SseTestClient.ConnectAsync(node, query);
            for (var i = 0; i < maxEvents; i++)
            {
                var f = await sse.ReadEventAsync(TimeSpan.FromSeconds(5));
                if (f.Event is "reset" or "stream_error") Ended(f.Event, f.Data);
                if (!Record(f.Id!, f.Payload.GetProperty("id").GetString()!)) return;
                await MaybeStallAsync();
            }
        }

        public override string ToString() => $"SSE[{string.Join(",", Projects)}]";
    }

    private sealed class HubSubscriber(Uri[] nodes, string[] projects, bool messagePack, int seed) : Subscriber(nodes, projects, seed)
    {
        protected override async Task ReadSessionAsync(Uri node, string after, int maxEvents)
        {
            var builder = new HubConnectionBuilder().WithUrl(new Uri(node, EventHubPaths.Events));
            if (messagePack) builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
            await using var connection = builder.Build();
            await connection.StartAsync().WithTimeout(TimeSpan.FromSeconds(5));
            using var cts = new CancellationTokenSource();
            var channel = await connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
                new StreamEventsRequest { Projects = Projects, After = after }, cts.Token);
            for (var i = 0; i < maxEvents; i++)
            {
                var e = await channel.ReadAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(5));
                if (e.Type is "reset" or "stream_error") Ended(e.Type, e.Payload.ToString());
                if (!Record(e.Offset, e.Payload.GetProperty("id").GetString()!)) return;
                await MaybeStallAsync();
            }
            await cts.CancelAsync();
        }

        public override string ToString() => $"Hub{(messagePack ? "/msgpack" : "/json")}[{string.Join(",", Projects)}]";
    }
}
