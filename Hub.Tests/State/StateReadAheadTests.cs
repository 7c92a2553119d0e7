using EventHub.Log;
using EventHub.State;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// A live-state read runs ahead of its client only within the node's budget
/// (<c>Limits:StateReadAheadBytes</c>): thirty requests for a 27 MB state that never read their
/// answers took a hub from 226 MB to 1.8 GB when it read every answer ahead whole.
/// </summary>
public sealed class StateReadAheadTests
{
    private const int Items = 1_000;

    [Fact]
    public async Task A_read_whose_client_takes_nothing_stops_once_the_budget_is_spent_and_goes_on_as_it_reads()
    {
        var budget = new StateReadAheadBudget(5_000); // ~4 entities of ~1.3 KB
        var read = new CountingRead();
        var state = await OpenAsync(read, budget);

        await TaskTimeouts.UntilAsync(() => budget.Held > budget.Limit, because: "the read never spent the budget");
        // Spent, the read waits for its client: without the budget it would read on to the end.
        Assert.InRange(read.Pulled, 4, 6);
        Assert.False(read.Ended);

        var seqs = new List<long>();
        await foreach (var item in state.Entities(CancellationToken.None).WithCancellation(new CancellationTokenSource(TaskTimeouts.Default).Token))
        {
            seqs.Add(item.Event!.Seq);
            Assert.True(budget.Held <= budget.Limit + 1_500, $"held {budget.Held}");
        }
        Assert.Equal(Enumerable.Range(1, Items).Select(i => (long)i), seqs);
        await state.DisposeAsync();
        Assert.Equal(0, budget.Held);
    }

    [Fact]
    public async Task Disposing_a_read_that_waits_for_its_client_ends_it_and_gives_its_bytes_back()
    {
        var budget = new StateReadAheadBudget(5_000);
        var read = new CountingRead();
        var state = await OpenAsync(read, budget);
        await TaskTimeouts.UntilAsync(() => budget.Held > budget.Limit, because: "the read never spent the budget");

        await state.DisposeAsync().AsTask().WithTimeout();

        Assert.True(read.Disposed);
        Assert.Equal(0, budget.Held);
    }

    private static async Task<StateReadAhead> OpenAsync(CountingRead read, StateReadAheadBudget budget)
    {
        var items = read.GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync()); // the head
        return new StateReadAhead(items, budget);
    }

    /// <summary>A state of <see cref="Items"/> entities of ~1 KB after its head, counting what was read of it.</summary>
    private sealed class CountingRead : IAsyncEnumerable<LiveStateItem>
    {
        private int _pulled;

        public int Pulled => Volatile.Read(ref _pulled);
        public bool Ended { get; private set; }
        public bool Disposed { get; private set; }

        public async IAsyncEnumerator<LiveStateItem> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            try
            {
                yield return new LiveStateItem(new LiveStateHead("e1-9-0", [], new Dictionary<string, EntityKey>()), null, null, null);
                for (var i = 1; i <= Items; i++)
                {
                    Interlocked.Increment(ref _pulled);
                    var e = new LogEvent(new LogPosition(1, 9, i), $"e1-9-{i}", i, "p", $"s-{i}", "session_created",
                        $$"""{"id":"s-{{i}}","pad":"{{new string('x', 1000)}}"}""", DateTimeOffset.UnixEpoch);
                    yield return new LiveStateItem(null, "session", $"[\"s-{i}\"]", e);
                }
                Ended = true;
            }
            finally
            {
                Disposed = true;
            }
            await Task.CompletedTask;
        }
    }
}
