using System.Threading.Channels;

namespace EventHub.State;

/// <summary>
/// The rest of a live-state read (<see cref="LiveStateReader.StreamAsync"/>, positioned on its head),
/// read into memory on a task of its own, ahead of the transport that writes it out. Owns the read.
/// </summary>
/// <remarks>
/// Why: a read holds a pooled session, one of <c>Limits:MaxConcurrentStateReads</c> and a snapshot
/// (which keeps vacuum from the state's dead rows) for as long as it runs. Written at the client's
/// pace, a client that stopped reading held all three (<c>SlowStateReaderTests</c>): over SignalR
/// another read waited ~10 s, until the stalled connection was dropped; over HTTP past the test's
/// 20 s (Kestrel allows each 32 KB flush 136 s at its minimum data rate). Read ahead, the read lasts
/// as long as the database takes (~50 ms for 10,000 entities) and the entities wait in memory, as
/// <c>GetState</c>'s one answer always held them; a fast client still gets each entity as soon as
/// its row arrives.
/// </remarks>
public sealed class StateReadAhead : IAsyncDisposable
{
    private readonly Channel<LiveStateItem> _entities =
        Channel.CreateUnbounded<LiveStateItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Task _drain;

    /// <param name="read">The read, positioned on its head; its token ends the read early (a client that left).</param>
    internal StateReadAhead(IAsyncEnumerator<LiveStateItem> read)
    {
        Head = read.Current.Head ?? throw new ArgumentException("The read is not positioned on its head.", nameof(read));
        _drain = DrainAsync(read);
    }

    /// <summary>The state's head: its offset, unkeyed types and keys.</summary>
    public LiveStateHead Head { get; }

    /// <summary>The entities, each as soon as its row has been read; a read that failed throws its error here.</summary>
    public IAsyncEnumerable<LiveStateItem> Entities(CancellationToken cancellationToken) => _entities.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Waits for the read to end (at once when its token was cancelled), so its session and slot are back.</summary>
    public async ValueTask DisposeAsync() => await _drain;

    private async Task DrainAsync(IAsyncEnumerator<LiveStateItem> read)
    {
        await Task.Yield(); // the constructor returns while this task reads
        try
        {
            await using (read)
                while (await read.MoveNextAsync())
                    _entities.Writer.TryWrite(read.Current);
            _entities.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _entities.Writer.TryComplete(e);
        }
    }
}
