using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace EventHub.State;

/// <summary>
/// The rest of a live-state read (<see cref="LiveStateReader.StreamAsync"/>, positioned on its head),
/// read into memory on a task of its own, ahead of the transport that writes it out, within the
/// node's <see cref="StateReadAheadBudget"/>. Owns the read, and the connection slot it was
/// counted against, if any.
/// </summary>
/// <remarks>
/// Why ahead: a read holds a pooled session, one of <c>Limits:MaxConcurrentStateReads</c> and a snapshot
/// (which keeps vacuum from the state's dead rows) for as long as it runs. Written at the client's
/// pace, a client that stopped reading held all three (<c>SlowStateReaderTests</c>): over SignalR
/// another read waited ~10 s, until the stalled connection was dropped; over HTTP past the test's
/// 20 s (Kestrel allows each 32 KB flush 136 s at its minimum data rate). Read ahead, the read lasts
/// as long as the database takes (~50 ms for 10,000 entities) and the entities wait in memory, as
/// <c>GetState</c>'s one answer always held them; a fast client still gets each entity as soon as
/// its row arrives.
/// Why within a budget: unbounded, thirty requests for a 27 MB state that never read their answers
/// took the hub from 226 MB to 1.8 GB. Past the budget a read waits until its own client has taken
/// what it holds (holding its session meanwhile, as before read-ahead), so memory stays near the
/// budget whatever the clients do.
/// </remarks>
public sealed class StateReadAhead : IAsyncDisposable
{
    private readonly Channel<LiveStateItem> _entities =
        Channel.CreateUnbounded<LiveStateItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly StateReadAheadBudget _budget;
    private readonly IDisposable? _connection;
    private readonly CancellationTokenSource _disposed = new();
    private readonly Lock _gate = new();
    private readonly Task _drain;
    private long _held; // this read's bytes ahead of its client (under _gate)
    private TaskCompletionSource? _taken; // set while the read waits for its client to take what it holds

    /// <param name="read">The read, positioned on its head; its token ends the read early (a client that left).</param>
    /// <param name="budget">The node's budget of bytes read ahead.</param>
    /// <param name="connection">The connection slot the read is counted against, released at dispose.</param>
    internal StateReadAhead(IAsyncEnumerator<LiveStateItem> read, StateReadAheadBudget budget, IDisposable? connection = null)
    {
        Head = read.Current.Head ?? throw new ArgumentException("The read is not positioned on its head.", nameof(read));
        _budget = budget;
        _connection = connection;
        _drain = DrainAsync(read);
    }

    /// <summary>The state's head: its offset, unkeyed types and keys.</summary>
    public LiveStateHead Head { get; }

    /// <summary>The entities, each as soon as its row has been read; a read that failed throws its error here.</summary>
    public async IAsyncEnumerable<LiveStateItem> Entities([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _entities.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            while (_entities.Reader.TryRead(out var item))
            {
                Taken(SizeOf(item));
                yield return item;
            }
    }

    /// <summary>
    /// Ends the read if it still runs (it may wait for a client that has gone), waits for it, so its
    /// session and slot are back, and gives back what it held.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        await _drain;
        lock (_gate)
        {
            _budget.Give(_held);
            _held = 0;
        }
        _disposed.Dispose();
        _connection?.Dispose();
    }

    private async Task DrainAsync(IAsyncEnumerator<LiveStateItem> read)
    {
        await Task.Yield(); // the constructor returns while this task reads
        try
        {
            await using (read)
                while (await read.MoveNextAsync())
                {
                    Task? taken = null;
                    lock (_gate)
                    {
                        var size = SizeOf(read.Current);
                        _held += size;
                        _budget.Take(size);
                        _entities.Writer.TryWrite(read.Current);
                        if (_budget.IsSpent)
                            taken = (_taken = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    }
                    if (taken is not null) await taken.WaitAsync(_disposed.Token).ConfigureAwait(false);
                }
            _entities.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _entities.Writer.TryComplete(e);
        }
    }

    private void Taken(long size)
    {
        lock (_gate)
        {
            _held -= size;
            _budget.Give(size);
            // The read waits until its client has taken all it holds (or the budget has room again,
            // which the next entity's check sees), so that one reader at a time drains, not all.
            if (_taken is not null && (_held == 0 || !_budget.IsSpent))
            {
                _taken.TrySetResult();
                _taken = null;
            }
        }
    }

    // The entity's payload and key, and what the event and its boxes take besides (~200 bytes).
    private static long SizeOf(LiveStateItem item) => (item.Event?.PayloadSize ?? 0) + 2L * (item.Key?.Length ?? 0) + 200;
}
