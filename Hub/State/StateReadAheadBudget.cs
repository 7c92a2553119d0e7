namespace EventHub.State;

/// <summary>
/// The bytes every live-state read of this node holds ahead of its client, against
/// <c>Limits:StateReadAheadBytes</c>. A read runs ahead of its client (<see cref="StateReadAhead"/>)
/// so that a slow client holds no database session; past this budget a read waits for its own
/// client before it reads on, so clients that ask for large states and never read them cost the
/// node this much memory, not a state's size each.
/// </summary>
public sealed class StateReadAheadBudget(long limit)
{
    private long _held;

    /// <summary>The most bytes all reads may hold ahead of their clients before each waits for its own.</summary>
    public long Limit { get; } = limit > 0 ? limit : throw new ArgumentOutOfRangeException(nameof(limit));

    /// <summary>The bytes held now.</summary>
    public long Held => Interlocked.Read(ref _held);

    internal bool IsSpent => Held > Limit;

    internal void Take(long bytes) => Interlocked.Add(ref _held, bytes);

    internal void Give(long bytes) => Interlocked.Add(ref _held, -bytes);
}
