using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The loops on the ticker's thread are compiled optimized before they run, never replaced on stack
/// (OSR) while they run: an OSR compile happens on the thread that runs the loop, and every event of
/// every stream waited for it (the ticker's loop: 35-76 ms, seconds into a young hub's first load;
/// bench/results/2026-12-04-ticker-osr.md). Alone: a second hub process compiling everything with
/// the runtime's summary on is load the timing bounds of the tests beside it would measure.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class TickerCompilationTests
{
    /// <summary>The loops the ticker's thread runs: its own, and the hand-off's over a tick's events and a project's subscribers.</summary>
    private static readonly string[] OnTheTickersThread =
    [
        "EventHub.Log.Ticker:Tick(",
        "EventHub.Streaming.Internal.ChangeLogTail:PublishLocked(",
        "EventHub.Streaming.Internal.ProjectFanout:Publish(",
    ];

    [Fact]
    public async Task The_loops_of_the_tickers_thread_are_not_recompiled_on_it_while_they_run()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        var jitLog = Path.Combine(Path.GetTempPath(), $"eventhub-jit-{Guid.NewGuid():N}.txt");
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(), new Dictionary<string, string>
        {
            // The runtime's summary of every method it compiles, with its tier.
            ["DOTNET_JitStdOutFile"] = jitLog,
            ["DOTNET_JitDisasmSummary"] = "1",
            // OSR after a loop's second pass instead of after thousands: what load does in seconds,
            // a handful of ticks does here.
            ["DOTNET_TC_OnStackReplacement_InitialCounter"] = "1",
            ["DOTNET_OSR_HitLimit"] = "1",
        });
        try
        {
            // Each event is ticked, handed off and fanned out to this client before the next is
            // written: every loop of the ticker's thread has run.
            await using (var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao"))
                for (var i = 1; i <= 5; i++)
                {
                    await db.Writer.SessionAsync("ao", i);
                    Assert.Equal($"ao-{i}", (await sse.ReadEventAsync(TimeSpan.FromSeconds(60))).Payload.GetProperty("id").GetString());
                }
            await hub.StopAsync(); // a graceful stop: the runtime's summary is complete

            var summary = File.ReadAllLines(jitLog);
            foreach (var method in OnTheTickersThread)
            {
                var compiles = summary.Where(l => l.Contains(method, StringComparison.Ordinal)).ToList();
                Assert.True(compiles.Count > 0, $"{method} was not compiled");
                Assert.All(compiles, line => Assert.DoesNotContain("OSR", line, StringComparison.Ordinal));
                Assert.All(compiles, line => Assert.DoesNotContain("Tier0", line, StringComparison.Ordinal));
            }
        }
        finally
        {
            File.Delete(jitLog);
        }
    }
}
