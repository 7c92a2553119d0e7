namespace EventHub.Log;

/// <summary>
/// An <see cref="IChangeLogReader"/> that passes every call to another; decorators (the catch-up
/// bound, test seams) override what they change.
/// </summary>
public abstract class DelegatingChangeLogReader(IChangeLogReader inner) : IChangeLogReader
{
    protected IChangeLogReader Inner { get; } = inner;

    public virtual ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default) => Inner.GetEpochAsync(cancellationToken);
    public virtual Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default) =>
        Inner.ReadAsync(after, filter, limit, cancellationToken);
    public virtual Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default) => Inner.GetHeadTickAsync(cancellationToken);
    public virtual Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default) =>
        Inner.ReadLastAsync(throughTick, count, maxPayloadBytes, cancellationToken);
    public virtual Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default) =>
        Inner.LookUpAsync(offset, cancellationToken);
    public virtual Task<long> TickNowAsync(CancellationToken cancellationToken = default) => Inner.TickNowAsync(cancellationToken);
}
