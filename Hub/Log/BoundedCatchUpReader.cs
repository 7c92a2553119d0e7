namespace EventHub.Log;

/// <summary>
/// The catch-up reader with a global bound on concurrent reads (<c>Limits:MaxConcurrentCatchUps</c>):
/// reads past the bound wait for a slot, in arrival order as far as <see cref="SemaphoreSlim"/>
/// gives it, and a waiting read whose stream is cancelled leaves the queue at once.
/// </summary>
/// <remarks>
/// The attack: one token opens hundreds of streams with <c>after=0</c>. Each catch-up batch holds
/// a pooled connection for its query; unbounded, they take the whole pool (and the database's
/// CPU), and stream opens, head offsets and retention wait behind them. Bounded, at most this
/// many catch-up queries run and the rest of the pool stays free. The bound is per read, not per
/// catch-up: streams take turns batch by batch, so a long catch-up does not keep the others
/// waiting for all of its batches. (The tail has a pool of its own; see EventHubApp.)
/// Only <see cref="ReadAsync"/> is bounded: the rest are single short queries of stream opens.
/// </remarks>
public sealed class BoundedCatchUpReader(IChangeLogReader inner, int maxConcurrentReads) : DelegatingChangeLogReader(inner), IDisposable
{
    private readonly ReadSlots _slots = new(maxConcurrentReads);

    /// <summary>Reads waiting for a slot now.</summary>
    public int Queued => _slots.Queued;

    public override async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
    {
        await _slots.EnterAsync(cancellationToken);
        try
        {
            return await Inner.ReadAsync(after, filter, limit, cancellationToken);
        }
        finally
        {
            _slots.Exit();
        }
    }

    public void Dispose() => _slots.Dispose();
}
