using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Dapper;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// Issue 15, point 4: the .NET client's live state against a real PostgreSQL and the real hub, run
/// as its own OS process, killed and restarted while writers commit, and a forced reset (retention
/// pruning past the client's offset while no hub it can reach runs). The live state ends equal to
/// the state computed from the database.
/// </summary>
public sealed class LiveStateEndToEndTests
{
    private static readonly ExponentialBackoffPolicy FastPolicy = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        MaxElapsed = TimeSpan.FromSeconds(120),
    };

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task After_random_writes_hub_kills_and_a_retention_reset_the_live_state_equals_the_state_computed_from_the_log(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync($"live_{protocol}");
        await LogState.KeepPrunedRowsAsync(db);
        const string p = "live", other = "elsewhere";
        var port = HubProcess.FreePort();
        var hub = await HubProcess.StartAsync(db.ConnectionString, port);
        RandomWriters? writers = null;
        try
        {
            writers = new RandomWriters(db, p, other);
            await writers.WaitForMoreAsync(50); // some history before the state is loaded

            await using var client = new EventHubClient(new EventHubClientOptions
            {
                HubUrl = hub.BaseAddress, Projects = [p], Protocol = protocol, ReconnectPolicy = FastPolicy,
            });
            var states = Channel.CreateUnbounded<EventHubConnectionState>();
            client.StateChanged += (_, e) => states.Writer.TryWrite(e.Current);
            async Task WaitForStateAsync(EventHubConnectionState state)
            {
                while (await states.Reader.ReadAsync().AsTask().WithTimeout() != state) { }
            }
            await using var live = new LiveStateRecorder(new EventHubLiveState(client));

            var loaded = await live.WaitForAsync(c => c.Kind == LiveStateChangeKind.Loaded);
            Assert.True(loaded.State.Count > 0, "the state loaded after 50 transactions holds entities");
            await live.WaitForAppliedAsync(30);

            // 1. Killed (SIGKILL) while the writers go on, and restarted: resumed, not reloaded.
            for (var restart = 0; restart < 2; restart++)
            {
                await hub.KillAsync();
                await WaitForStateAsync(EventHubConnectionState.Reconnecting);
                await writers.WaitForMoreAsync(30); // committed while no hub runs: only the resume can deliver them
                await hub.DisposeAsync();
                hub = await HubProcess.StartAsync(db.ConnectionString, port);
                await WaitForStateAsync(EventHubConnectionState.Live);
                await live.WaitForAppliedAsync(30);
            }
            Assert.Equal(1, live.Live.Loads);

            // 2. Killed again; while no hub the client can reach runs, another hub prunes the log
            //    past the client's offset (keeping 20 events) as the writers go on. The restarted
            //    hub cannot continue from that offset: a reset, and the live state reloads.
            await hub.KillAsync();
            await WaitForStateAsync(EventHubConnectionState.Reconnecting);
            long newestTick;
            await using (var c = await db.DataSource.OpenConnectionAsync())
                newestTick = await c.ExecuteScalarAsync<long>("SELECT max(tick_id) FROM eventhub_tick"); // the client's offset is at or before its end
            await using (var pruning = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
            {
                ["Retention:MaxEvents"] = "20",
                ["Retention:Interval"] = "00:00:00.200",
            }))
            {
                await TaskTimeouts.UntilAsync(() => PrunedThroughTick(db) > newestTick, TimeSpan.FromSeconds(60),
                    because: "retention did not prune past the client's offset");
            }
            await hub.DisposeAsync();
            hub = await HubProcess.StartAsync(db.ConnectionString, port);
            var reloaded = await live.WaitForAsync(c => c.Kind == LiveStateChangeKind.Reloaded, because: "no reload after the pruned offset");
            Assert.Equal(StreamReset.Reasons.OffsetPruned, reloaded.Reset!.Reason);
            Assert.Equal(2, live.Live.Loads);
            await live.WaitForAppliedAsync(30); // and it goes on from the stream

            // 3. The writers stop; every committed row is placed in a tick (the head), and the live
            //    state reaches exactly the state folded from the whole log, pruned rows included.
            await writers.StopAsync();
            using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
                await http.GetFromJsonAsync<JsonElement>("/api/v1/events/head").WithTimeout();
            var expected = await LogState.ExpectedAsync(db, p, withPruned: true);
            await live.UntilAsync(s => LogState.Same(expected, LogState.Of(s, p)), TimeSpan.FromSeconds(30),
                () => LogState.Diff(expected, LogState.Of(live.Live.Current, p)));

            // Every kind is there, the state holds no other project, and retention pruned events
            // that only the reload could bring back.
            var kinds = live.Live.Current.Entities.Keys.GroupBy(k => k.Kind).ToDictionary(g => g.Key, g => g.Count());
            Assert.All(new[] { "session", "pr", "check", "thread" }, k => Assert.True(kinds.GetValueOrDefault(k) > 3, $"{k}: {kinds.GetValueOrDefault(k)}"));
            Assert.All(live.Live.Current.Entities.Keys, k => Assert.Equal(p, k.ProjectId));
            Assert.True(await LogState.PrunedCountAsync(db) > 100, "retention pruned the log");
            Assert.Equal(2, live.Live.Loads); // no reload but the reset's

            // No event applied twice, and none applied that the state it followed already held.
            var changes = live.All;
            var applied = changes.Where(c => c.Kind == LiveStateChangeKind.Applied).Select(c => c.Event!.Seq).ToList();
            Assert.Equal(applied.Count, applied.Distinct().Count());
            var loadedSeqs = new HashSet<long>();
            foreach (var change in changes)
            {
                if (change.Kind is LiveStateChangeKind.Loaded or LiveStateChangeKind.Reloaded)
                    loadedSeqs = [.. change.State.Entities.Values.Select(e => e.Seq)];
                else if (change.Kind == LiveStateChangeKind.Applied)
                    Assert.DoesNotContain(change.Event!.Seq, loadedSeqs);
            }
            Assert.Equal(0, client.DuplicatesDropped);
            Assert.Equal(live.Live.Offset, client.LastOffset);
            Assert.False(live.Completion.IsCompleted);
        }
        finally
        {
            if (writers is not null) await writers.DisposeAsync();
            await hub.DisposeAsync();
        }
    }

    private static long PrunedThroughTick(TestDatabase db)
    {
        using var c = db.DataSource.OpenConnection();
        return c.ExecuteScalar<long?>("SELECT pruned_through_tick FROM eventhub_retention") ?? 0;
    }
}
