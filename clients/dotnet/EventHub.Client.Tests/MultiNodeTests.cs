using Dapper;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

/// <summary>
/// Issue 9, point 1: several hub processes on different loopback ports against one PostgreSQL
/// database. Every node tails the same log, offsets are global, so a client moves between nodes
/// without loss or duplicate, every node delivers the same order, and the schema is migrated once.
/// </summary>
public sealed class MultiNodeTests
{
    private static readonly ExponentialBackoffPolicy FastReconnect = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        MaxElapsed = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task A_stream_moves_to_another_node_when_its_node_is_killed_with_no_loss_and_no_duplicate()
    {
        await using var db = await TestDatabase.CreateAsync("multinode_failover");
        const string p = "failover";
        await db.Writer.ProjectAsync(p);
        var nodes = await Task.WhenAll(
            HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort()),
            HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort()));
        var (a, b) = (nodes[0], nodes[1]);
        ConcurrentWriters? writers = null;
        try
        {
            await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
            {
                HubUrl = a.BaseAddress,
                FallbackHubUrls = [b.BaseAddress],
                Projects = [p],
                StartAfter = "0",
                ReconnectPolicy = FastReconnect,
            }));
            Assert.StartsWith(a.BaseAddress.ToString().TrimEnd('/'), reader.Client.HubUrl.ToString());

            writers = new ConcurrentWriters(db.Writer, p);

            var received = await reader.ReadAsync(20);
            await a.KillAsync(); // SIGKILL mid-stream
            await reader.WaitForStateAsync(Reconnecting);
            await writers.WaitForMoreAsync(20);

            await reader.WaitForStateAsync(Live); // on node B: A is gone for good
            Assert.StartsWith(b.BaseAddress.ToString().TrimEnd('/'), reader.Client.HubUrl.ToString());
            received.AddRange(await reader.ReadAsync(20));
            var total = await writers.StopAsync();
            received.AddRange(await reader.ReadAsync(total - received.Count));

            Assert.Equal(total, received.Count);
            await LogAssert.ReceivedExactlyTheLogAsync(db, p, received);
            Assert.Equal(0, reader.Client.DuplicatesDropped); // the hub sent nothing twice (the client would drop and count it)
            Assert.False(reader.HasUnreadEvent);
            Assert.Equal([Connecting, Live, Reconnecting, Live], reader.States);
        }
        finally
        {
            if (writers is not null) await writers.DisposeAsync();
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Three_nodes_started_at_once_on_a_fresh_database_migrate_once_and_deliver_the_same_events_in_the_same_order()
    {
        await using var db = await TestDatabase.CreateAsync("multinode_fresh", migrate: false);
        // All three at the same moment, on a database without the schema: each runs the migrator.
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort())));
        var readers = new List<ClientReader>();
        try
        {
            await using (var c = await db.DataSource.OpenConnectionAsync())
            {
                var versions = (await c.QueryAsync<int>("SELECT version FROM eventhub_schema_migrations ORDER BY version")).ToList();
                Assert.NotEmpty(versions);
                Assert.Equal(versions.Distinct(), versions); // each version once
                // Exactly the embedded migrations (numbers may skip: a branch can hold 0008 before 0007 lands).
                Assert.Equal(EventHub.Storage.SchemaMigrator.EmbeddedMigrations.Select(m => m.Version), versions);
            }

            const string p1 = "multi1", p2 = "multi2";
            await db.Writer.ProjectAsync(p1);
            await db.Writer.ProjectAsync(p2);
            // Every node streams everything from the start while two writers commit concurrently.
            foreach (var node in nodes)
                readers.Add(new ClientReader(new EventHubClient(new EventHubClientOptions
                {
                    HubUrl = node.BaseAddress, StartAfter = "0", ReconnectPolicy = FastReconnect,
                })));
            const int perWriter = 60;
            Task[] writers =
            [
                Task.Run(async () => { for (var i = 0; i < perWriter; i++) await db.Writer.SessionAsync(p1, i); }),
                Task.Run(async () => { for (var i = 0; i < perWriter; i++) await db.Writer.SessionAsync(p2, 1000 + i); }),
            ];
            await Task.WhenAll(writers).WithTimeout();
            var total = (int)await db.ChangeLogCountAsync();
            Assert.True(total >= 2 * perWriter, $"{total} events in the log");

            var streams = await Task.WhenAll(readers.Select(r => r.ReadAsync(total)));
            await using (var c = await db.DataSource.OpenConnectionAsync())
            {
                var logged = (await c.QueryAsync<(string Project, long Seq)>(
                    "SELECT project_id, seq FROM change_log ORDER BY eventhub_tick_of(tx_id), tx_id, seq")).ToList();
                foreach (var stream in streams)
                {
                    Assert.Equal(logged, stream.Select(e => (e.ProjectId, e.Seq)));
                    Assert.Equal(streams[0].Select(e => e.Offset), stream.Select(e => e.Offset)); // same offsets, same order
                }
            }
            Assert.All(readers, r => Assert.False(r.HasUnreadEvent));
            Assert.All(readers, r => Assert.Equal(0, r.Client.DuplicatesDropped)); // the hub sent nothing twice (the client would drop and count it)
        }
        finally
        {
            foreach (var r in readers) await r.DisposeAsync();
            foreach (var node in nodes) await node.DisposeAsync();
        }
    }
}
