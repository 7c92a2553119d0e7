using EventHub.Log;

namespace EventHub.Tests.Operations;

/// <summary>
/// A decorator of the primary <see cref="IChangeLogReader"/> for the operations tests: it counts
/// the database work of head-offset calls, and can make snapshot reads fail like a broken database.
/// </summary>
public sealed class ObservedReader(IChangeLogReader inner, Func<CancellationToken, Task>? failSnapshot = null) : IChangeLogReader
{
    private int _snapshotsInFlight;
    private int _maxSnapshotsInFlight;
    private int _snapshots;

    /// <summary>The most snapshot queries that ran at once.</summary>
    public int MaxSnapshotsInFlight => Volatile.Read(ref _maxSnapshotsInFlight);

    /// <summary>Snapshot queries so far.</summary>
    public int Snapshots => Volatile.Read(ref _snapshots);

    /// <summary>While set, snapshot reads run <c>failSnapshot</c> (which throws) instead.</summary>
    public volatile bool Failing;

    public ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default) => inner.GetEpochAsync(cancellationToken);

    public Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, int limit, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(after, filter, limit, cancellationToken);

    public Task<LogPosition> GetHeadAsync(CancellationToken cancellationToken = default) => inner.GetHeadAsync(cancellationToken);

    public Task<IReadOnlyList<LogEvent>> ReadLastAsync(LogPosition head, int count, CancellationToken cancellationToken = default) =>
        inner.ReadLastAsync(head, count, cancellationToken);

    public async Task<LogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _snapshots);
        var now = Interlocked.Increment(ref _snapshotsInFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxSnapshotsInFlight)) && Interlocked.CompareExchange(ref _maxSnapshotsInFlight, now, max) != max) { }
        try
        {
            if (Failing && failSnapshot is not null)
                await failSnapshot(cancellationToken);
            // Hold the query a little, as a loaded database would: overlapping calls overlap here.
            await Task.Delay(5, cancellationToken);
            return await inner.GetSnapshotAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _snapshotsInFlight);
        }
    }

    public Task<LogHorizon> GetHorizonAsync(CancellationToken cancellationToken = default) => inner.GetHorizonAsync(cancellationToken);
}
