using EventHub.Log;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Streaming;

/// <summary>The tail's start-up: it is ready only once it has a head, a loaded window and the fan-out's head.</summary>
public sealed class ChangeLogTailTests
{
    [Fact]
    public async Task When_the_first_window_load_fails_the_tail_retries_it_and_becomes_ready_once_the_database_answers()
    {
        FirstWindowLoadFails reader = null!;
        await using var hub = new InMemoryHub(wrapReader: log => reader = new FirstWindowLoadFails(log));
        var before = hub.Log.Append("ao", "session_created");

        await hub.Tail.StartAsync(CancellationToken.None);
        await hub.Tail.Ready.WithTimeout(TimeSpan.FromSeconds(10));
        Assert.Equal(2, reader.WindowLoads);

        // Streams open, and get what the window loaded and what comes after.
        await using var stream = await hub.Source.OpenAsync(new StreamRequest([], [], Offset.Beginning)).WithTimeout();
        await using var events = stream.ReadAllAsync().GetAsyncEnumerator();
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(before.Seq, events.Current.Seq);
        var after = hub.Append("ao", "session_created");
        Assert.True(await events.MoveNextAsync().WithTimeout());
        Assert.Equal(after.Seq, events.Current.Seq);
        Assert.True(hub.Window.Hits > 0);
    }

    /// <summary>A reader whose first window load fails, as when the database goes away at start-up.</summary>
    private sealed class FirstWindowLoadFails(IChangeLogReader inner) : DelegatingChangeLogReader(inner)
    {
        private int _windowLoads;
        public int WindowLoads => Volatile.Read(ref _windowLoads);

        public override Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default) =>
            Interlocked.Increment(ref _windowLoads) == 1
                ? Task.FromException<RecentRows>(new TimeoutException("The database did not answer (test)."))
                : Inner.ReadLastAsync(throughTick, count, maxPayloadBytes, cancellationToken);
    }
}
