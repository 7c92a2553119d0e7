using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

/// <summary>
/// Issue 7, point 2: the hub runs as its own OS process, is killed with SIGKILL mid-stream while
/// writers keep committing to PostgreSQL, and is started again on the same port. The client ends
/// with exactly the committed events, in the log's order, none twice.
/// </summary>
public sealed class HubProcessKillTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_hub_process_killed_mid_stream_and_restarted_is_resumed_with_exactly_the_committed_events(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync($"kill_{protocol}");
        const string p = "kill";
        await db.Writer.ProjectAsync(p);
        var port = HubProcess.FreePort();
        var hub = await HubProcess.StartAsync(db.ConnectionString, port);
        ConcurrentWriters? writers = null;
        try
        {
            await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
            {
                HubUrl = hub.BaseAddress,
                Projects = [p],
                StartAfter = "0",
                Protocol = protocol,
                ReconnectPolicy = new ExponentialBackoffPolicy
                {
                    InitialDelay = TimeSpan.FromMilliseconds(20),
                    MaxDelay = TimeSpan.FromMilliseconds(200),
                    MaxElapsed = TimeSpan.FromSeconds(60),
                },
            }));

            writers = new ConcurrentWriters(db.Writer, p);

            var received = await reader.ReadAsync(20);

            await hub.KillAsync(); // SIGKILL mid-stream: no final frame, no graceful close
            await reader.WaitForStateAsync(Reconnecting);
            // Commits while no hub runs: only the resume can deliver them.
            await writers.WaitForMoreAsync(20);

            await hub.DisposeAsync();
            hub = await HubProcess.StartAsync(db.ConnectionString, port);
            {
                await reader.WaitForStateAsync(Live);
                received.AddRange(await reader.ReadAsync(20)); // the writers are still going
                var total = await writers.StopAsync();

                received.AddRange(await reader.ReadAsync(total - received.Count));
                Assert.Equal(total, received.Count);
                await LogAssert.ReceivedExactlyTheLogAsync(db, p, received);
                Assert.Equal(0, reader.Client.DuplicatesDropped); // the hub sent nothing twice (the client would drop and count it)
                Assert.False(reader.HasUnreadEvent);
                Assert.Equal([Connecting, Live, Reconnecting, Live], reader.States);
            }
        }
        finally
        {
            if (writers is not null) await writers.DisposeAsync();
            await hub.DisposeAsync();
        }
    }
}
