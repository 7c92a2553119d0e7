using System.Collections.Concurrent;
using Dapper;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Resilience;

/// <summary>
/// A bounded soak: writers with out-of-order commits and rollbacks; SSE and SignalR subscribers
/// that disconnect at random, stall and resume from their offsets; the hub restarts once and the
/// database restarts once. At the end every subscriber holds exactly the committed events of its
/// projects, in log order.
/// </summary>
[Collection(AloneCollection.Name)] // holds transactions open: on the shared cluster they would stall every other test's stream (issue 13)
public sealed class SoakTests
{
    private static readonly string[] Projects = ["ao", "web", "infra"];

    [Fact]
    public async Task Subscribers_end_with_exactly_the_committed_events_through_restarts_of_hub_and_database()
    {
        await using var cluster = await PrivateCluster.CreateAsync("soak");
        var hubPort = LoopbackPorts.Free();
        var settings = new Dictionary<string, string?> { ["Stream:PollInterval"] = "00:00:00.200", ["Stream:SubscriberBufferCapacity"] = "64" };
        HubServer? hub = await HubServer.StartAsync(cluster.ConnectionString, settings, hubPort);
        var hubUri = hub.BaseAddress;
        await using var dataSource = NpgsqlDataSource.Create(cluster.ConnectionString);
        try
        {
            foreach (var p in Projects) await new SourceWriter(dataSource).ProjectAsync(p);
            using var stop = new CancellationTokenSource();
            var committed = new ConcurrentBag<(string Project, string Id)>();
            var uncertain = new ConcurrentBag<(string Project, string Id)>();
            var writers = Enumerable.Range(0, 4).Select(w => WriteAsync(dataSource, w, committed, uncertain, stop.Token)).ToList();

            var subscribers = new List<Subscriber>
            {
                new SseSubscriber(hubUri, ["ao"], seed: 1),
                new SseSubscriber(hubUri, ["web", "infra"], seed: 2),
                new SseSubscriber(hubUri, [], seed: 3),
                new HubSubscriber(hubUri, ["ao"], messagePack: false, seed: 4),
                new HubSubscriber(hubUri, ["infra"], messagePack: true, seed: 5),
                new HubSubscriber(hubUri, [], messagePack: true, seed: 6),
            };
            var running = subscribers.Select(s => s.RunAsync(stop.Token)).ToList();

            await Task.Delay(TimeSpan.FromSeconds(4));
            await hub.DisposeAsync(); // hub restart
            hub = await HubServer.StartAsync(cluster.ConnectionString, settings, hubPort);
            await Task.Delay(TimeSpan.FromSeconds(4));
            await cluster.StopAsync(); // database restart
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            await cluster.StartAsync();
            await Task.Delay(TimeSpan.FromSeconds(4));

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
            await Task.WhenAll(running).WithTimeout(TimeSpan.FromSeconds(90));

            // The log's own order, replayed from the start over SSE.
            await using var replay = await SseTestClient.ConnectAsync(hub.BaseAddress, "after=0");
            var total = committed.Count + Projects.Length;
            var order = (await replay.ReadEventsAsync(total, TimeSpan.FromSeconds(30)))
                .Select(f => (Project: f.ProjectId, Id: f.Payload.GetProperty("id").GetString()!, Offset: f.Id!)).ToList();
            Assert.Equal(committed.Select(c => c.Id).Concat(Projects.Select(p => $"{p}-999999")).Order(), order.Select(o => o.Id).Order());

            foreach (var s in subscribers)
            {
                var expected = order.Where(o => s.Projects.Length == 0 || s.Projects.Contains(o.Project)).Select(o => o.Offset).ToList();
                Assert.True(expected.SequenceEqual(s.Received),
                    $"{s}: expected {expected.Count} events, got {s.Received.Count} ({s.Received.Count - s.Received.Distinct().Count()} duplicates)");
                Assert.True(s.Reconnects >= 2, $"{s} reconnected only {s.Reconnects} times");
            }
        }
        finally
        {
            if (hub is not null) await hub.DisposeAsync();
        }
    }

    private static async Task WriteAsync(NpgsqlDataSource dataSource, int writer, ConcurrentBag<(string, string)> committed,
        ConcurrentBag<(string, string)> uncertain, CancellationToken stop)
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


    /// <summary>A subscriber that keeps its offset and resumes from it whatever happens.</summary>
    private abstract class Subscriber(string[] projects, int seed)
    {
        private readonly HashSet<string> _sentinelsWanted = [];
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _finishing;
        protected readonly Random Random = new(seed);

        public string[] Projects { get; } = projects;
        public List<string> Received { get; } = [];
        public string? LastOffset { get; private set; }
        public int Reconnects { get; private set; }

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

        public async Task RunAsync(CancellationToken stopWriting)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!_done.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                try
                {
                    // Disconnect at random after a few events; stall at random while reading.
                    await ReadSessionAsync(maxEvents: _finishing ? int.MaxValue : Random.Next(5, 60));
                }
                catch (Exception) when (!_done.Task.IsCompleted)
                {
                    await Task.Delay(100); // hub or database restarting
                }
                Reconnects++;
            }
            if (!_done.Task.IsCompleted) throw new TimeoutException($"{this} did not see every sentinel.");
        }

        protected abstract Task ReadSessionAsync(int maxEvents);

        protected async Task MaybeStallAsync()
        {
            if (Random.Next(40) == 0) await Task.Delay(Random.Next(100, 400));
        }
    }

    private sealed class SseSubscriber(Uri hub, string[] projects, int seed) : Subscriber(projects, seed)
    {
        protected override async Task ReadSessionAsync(int maxEvents)
        {
            var query = string.Join("&", Projects.Select(p => $"project={p}").Append($"after={Uri.EscapeDataString(LastOffset ?? "0")}"));
            await using var sse = await SseTestClient.ConnectAsync(hub, query);
            for (var i = 0; i < maxEvents; i++)
            {
                var f = await sse.ReadEventAsync(TimeSpan.FromSeconds(5));
                if (!Record(f.Id!, f.Payload.GetProperty("id").GetString()!)) return;
                await MaybeStallAsync();
            }
        }

        public override string ToString() => $"SSE[{string.Join(",", Projects)}]";
    }

    private sealed class HubSubscriber(Uri hub, string[] projects, bool messagePack, int seed) : Subscriber(projects, seed)
    {
        protected override async Task ReadSessionAsync(int maxEvents)
        {
            var builder = new HubConnectionBuilder().WithUrl(new Uri(hub, EventHubPaths.Events));
            if (messagePack) builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
            await using var connection = builder.Build();
            await connection.StartAsync().WithTimeout(TimeSpan.FromSeconds(5));
            using var cts = new CancellationTokenSource();
            var channel = await connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
                new StreamEventsRequest { Projects = Projects, After = LastOffset ?? "0" }, cts.Token);
            for (var i = 0; i < maxEvents; i++)
            {
                var e = await channel.ReadAsync().AsTask().WithTimeout(TimeSpan.FromSeconds(5));
                if (!Record(e.Offset, e.Payload.GetProperty("id").GetString()!)) return;
                await MaybeStallAsync();
            }
            await cts.CancelAsync();
        }

        public override string ToString() => $"Hub{(messagePack ? "/msgpack" : "/json")}[{string.Join(",", Projects)}]";
    }
}
