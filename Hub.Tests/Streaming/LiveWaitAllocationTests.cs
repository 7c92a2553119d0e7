using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Streaming;

/// <summary>
/// A stream that keeps up waits for every live event: that wait must not allocate. At 100 SSE
/// subscribers × 100 events/s a wait given a cancellable token (an operation and a token
/// registration each time) was most of the ~0.2 KB the hub allocated per delivery, a gen-0
/// collection every few seconds of the latency bench.
/// </summary>
[Collection(AloneCollection.Name)] // counts the process's allocations: nothing else may run meanwhile
public sealed class LiveWaitAllocationTests
{
    [Fact]
    public async Task A_stream_that_waits_for_each_live_event_allocates_nothing_per_delivery()
    {
        await using var hub = new InMemoryHub();
        await hub.StartAsync();
        await using var stream = await hub.Source.OpenAsync(new StreamRequest(["ao"], [], null));
        using var cts = new CancellationTokenSource(); // a cancellable token, as every transport passes
        await using var events = stream.ReadAllAsync(cts.Token).GetAsyncEnumerator(cts.Token);

        const int Warmup = 200, Measured = 4_000, Rounds = 3;
        var made = Enumerable.Range(1, Warmup + Measured * Rounds).Select(Event).ToArray();
        async Task DeliverAsync(int from, int count)
        {
            for (var i = from; i < from + count; i++)
            {
                var next = events.MoveNextAsync(); // the buffer is empty: the stream waits
                Assert.False(next.IsCompleted);
                hub.Fanout.Publish(made[i]);
                Assert.True(await next);
                Assert.Same(made[i], events.Current);
            }
        }

        await DeliverAsync(0, Warmup);
        // The count is the whole process's: a thread a test before this one left behind (a pool's
        // timer, a logger's writer) allocates into it too (27 bytes a delivery in one CI run, where
        // the test took 1 s instead of 0.1). The least of a few rounds is the stream's own: a
        // delivery that allocates anything (an object is at least 24 bytes) shows in every round.
        var perDelivery = new List<double>();
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await DeliverAsync(Warmup + round * Measured, Measured);
            perDelivery.Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Measured);
        }
        Assert.True(perDelivery.Min() < 16, $"bytes allocated per delivery: {string.Join(", ", perDelivery.Select(b => b.ToString("F0")))}");

        // And cancelling the enumeration still ends its wait, as a cancelled wait did.
        var pending = events.MoveNextAsync();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await pending);
    }

    private static LogEvent Event(int i)
    {
        var p = new LogPosition(1_000 + i, (ulong)(100 + i), i); // after the empty log's head
        return new LogEvent(p, Offset.Format("0123456789", p), i, "ao", null, "session_created", "{}", DateTimeOffset.UnixEpoch);
    }
}
