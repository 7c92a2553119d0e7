using Dapper;
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
        using var stopWriters = new CancellationTokenSource();
        Task<int>[] writers = [];
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

            // Two writers commit concurrently (so commits interleave) until told to stop.
            var written = 0;
            var progress = new SemaphoreSlim(0);
            writers = [Write(1), Write(100_000)];
            async Task<int> Write(int from)
            {
                var n = 0;
                while (!stopWriters.IsCancellationRequested && n < 1500)
                {
                    await db.Writer.SessionAsync(p, from + n++);
                    Interlocked.Increment(ref written);
                    progress.Release();
                }
                return n;
            }

            var received = await reader.ReadAsync(20);

            await hub.KillAsync(); // SIGKILL mid-stream: no final frame, no graceful close
            await reader.WaitForStateAsync(Reconnecting);
            // Commits while no hub runs: only the resume can deliver them.
            var atKill = Volatile.Read(ref written);
            while (Volatile.Read(ref written) < atKill + 20) await progress.WaitAsync().WithTimeout();

            await hub.DisposeAsync();
            hub = await HubProcess.StartAsync(db.ConnectionString, port);
            {
                await reader.WaitForStateAsync(Live);
                received.AddRange(await reader.ReadAsync(20)); // the writers are still going
                await stopWriters.CancelAsync();
                var total = (await Task.WhenAll(writers).WithTimeout()).Sum();

                received.AddRange(await reader.ReadAsync(total - received.Count));
                await using var c = await db.DataSource.OpenConnectionAsync();
                var logged = (await c.QueryAsync<long>(
                    "SELECT seq FROM change_log WHERE project_id = @p ORDER BY tx_id, seq", new { p })).ToList();
                Assert.Equal(total, logged.Count);
                Assert.Equal(logged, received.Select(e => e.Seq)); // exactly the log, in its order
                Assert.Equal(total, received.Select(e => e.Offset).Distinct().Count());
                Assert.False(reader.HasUnreadEvent);
                Assert.Equal([Connecting, Live, Reconnecting, Live], reader.States);
            }
        }
        finally
        {
            await stopWriters.CancelAsync();
            try { await Task.WhenAll(writers).WithTimeout(); } catch (Exception e) when (e is not TimeoutException) { }
            await hub.DisposeAsync();
        }
    }
}
