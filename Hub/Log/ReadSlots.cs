namespace EventHub.Log;

/// <summary>
/// A bound on reads running at once. Past it, reads wait their turn, and the turns go round the
/// callers that wait (each caller named by a key: a principal, an address): a freed slot goes to
/// the next caller in turn, to its oldest read, so one caller with many reads queued delays
/// another's read by at most one read per slot, not by all of its own. Reads without a key share
/// one turn (arrival order). A waiting read whose token is cancelled leaves the queue at once
/// without taking a slot. Shared by the catch-up and live-state bounds.
/// </summary>
public sealed class ReadSlots(int slots) : IDisposable
{
    private readonly Lock _gate = new();
    private int _free = slots > 0 ? slots : throw new ArgumentOutOfRangeException(nameof(slots));
    // The callers with reads waiting, in turn order, and each caller's reads in arrival order.
    private readonly LinkedList<string> _turns = new();
    private readonly Dictionary<string, LinkedList<Waiter>> _waiting = new(StringComparer.Ordinal);
    private int _queued;

    /// <summary>Reads waiting for a slot now.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Waits for a slot; every successful call is matched by one <see cref="Exit"/>.</summary>
    public Task EnterAsync(CancellationToken cancellationToken) => EnterAsync(null, cancellationToken);

    /// <summary>
    /// Waits for a slot, taking turns with the other callers (<paramref name="caller"/>: whose read
    /// this is; null shares one turn); every successful call is matched by one <see cref="Exit"/>.
    /// </summary>
    public async Task EnterAsync(string? caller, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            if (_free > 0 && _turns.Count == 0)
            {
                _free--;
                return;
            }
            var key = caller ?? "";
            if (!_waiting.TryGetValue(key, out var reads))
            {
                _waiting[key] = reads = new LinkedList<Waiter>();
                _turns.AddLast(key);
            }
            waiter = new Waiter(key);
            waiter.Node = reads.AddLast(waiter);
            _queued++;
        }
        // The race: a slot handed over (Exit, under the lock) and a cancellation at the same time.
        // Whichever takes the waiter out of its queue under the lock decides; the other does nothing.
        await using (cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (slots, w) = ((ReadSlots, Waiter))state!;
            if (slots.Remove(w)) w.Granted.TrySetCanceled(token);
        }, (this, waiter)))
        {
            await waiter.Granted.Task.ConfigureAwait(false);
        }
    }

    /// <summary>Frees a slot: it goes to the next caller in turn that waits, else it is free.</summary>
    public void Exit()
    {
        Waiter? next = null;
        lock (_gate)
        {
            if (_turns.First is { } turn)
            {
                var reads = _waiting[turn.Value];
                next = reads.First!.Value;
                Take(next, reads);
                // The caller goes to the back of the turns if it has more reads waiting.
                _turns.RemoveFirst();
                if (reads.Count > 0) _turns.AddLast(turn);
            }
            else _free++;
        }
        next?.Granted.TrySetResult();
    }

    private bool Remove(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is not { } reads) return false; // handed a slot already
            Take(waiter, reads);
            if (reads.Count == 0) _turns.Remove(waiter.Key);
            return true;
        }
    }

    // Under the lock.
    private void Take(Waiter waiter, LinkedList<Waiter> reads)
    {
        reads.Remove(waiter.Node!);
        waiter.Node = null;
        if (reads.Count == 0) _waiting.Remove(waiter.Key);
        _queued--;
    }

    public void Dispose() { }

    private sealed class Waiter(string key)
    {
        public string Key { get; } = key;
        public LinkedListNode<Waiter>? Node { get; set; }
        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
