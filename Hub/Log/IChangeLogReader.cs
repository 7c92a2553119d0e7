namespace EventHub.Log;

/// <summary>
/// Reads the durable change log. This is the only seam to the log's storage.
/// </summary>
/// <remarks>
/// Contract (the ordering technique of docs/design.md):
/// <list type="bullet">
/// <item>Rows come in position order, <c>(transaction id, seq)</c>, strictly after the given position.</item>
/// <item>Only rows of ended transactions are returned: every row returned is final, and no row
/// can later appear at or before a returned position. Hence a cursor that advances to the last
/// row returned never skips a committed row and never sees one twice.</item>
/// <item>Rolled-back rows never appear; the holes they leave in <c>seq</c> mean nothing.</item>
/// </list>
/// </remarks>
public interface IChangeLogReader
{
    /// <summary>The epoch that names this log; offsets carry it.</summary>
    ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="limit"/> final rows after <paramref name="after"/> that match <paramref name="filter"/>.</summary>
    Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, int limit, CancellationToken cancellationToken = default);

    /// <summary>The position of the last final row: reading after it yields only rows that are not yet final.</summary>
    Task<LogPosition> GetHeadAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The last <paramref name="count"/> rows at or before <paramref name="head"/>, in position
    /// order (to fill the recent-events window at start-up).
    /// </summary>
    Task<IReadOnlyList<LogEvent>> ReadLastAsync(LogPosition head, int count, CancellationToken cancellationToken = default);

    /// <summary>The database's current snapshot: which transactions have committed by now.</summary>
    Task<LogSnapshot> GetSnapshotAsync(CancellationToken cancellationToken = default);

    /// <summary>What the database has handed out so far, to tell an offset it could have produced from one it could not.</summary>
    Task<LogHorizon> GetHorizonAsync(CancellationToken cancellationToken = default);
}

/// <summary>A batch of final rows in position order.</summary>
/// <param name="Events">The rows, at most the limit asked for.</param>
/// <param name="FinalBefore">
/// Every transaction id below this had ended when the batch was read; rows with a larger id may
/// still come. (<c>pg_snapshot_xmin</c> of the read's snapshot.)
/// </param>
/// <param name="HeldBack">
/// Whether committed rows exist that are not final yet because an older transaction is still
/// open (only computed for unfiltered reads). The tail polls quickly while this holds, since no
/// NOTIFY will come when a transaction that wrote no event ends.
/// </param>
/// <param name="PrunedThrough">Retention has deleted every row at or before this position (Start: nothing pruned).</param>
public sealed record LogBatch(IReadOnlyList<LogEvent> Events, ulong FinalBefore, bool HeldBack, LogPosition PrunedThrough = default);

/// <summary>The next transaction id and the last <c>seq</c> handed out.</summary>
public readonly record struct LogHorizon(ulong NextTransactionId, long LastSeq);
