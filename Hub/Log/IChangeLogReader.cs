namespace EventHub.Log;

/// <summary>
/// Reads the durable change log through its ticks. This is the only seam to the log's storage.
/// </summary>
/// <remarks>
/// Contract (the ordering technique of docs/design.md, "Ordering: ticks"):
/// <list type="bullet">
/// <item>Rows come in position order, <c>(tick, transaction id, seq)</c>, strictly after the given
/// position, and only from ticks that exist. A tick never changes once made, so no row can later
/// appear at or before a position a read has passed: a cursor that advances to
/// <see cref="LogBatch.Through"/> never skips a committed row and never sees one twice.</item>
/// <item>Every node reads the same rows at the same positions.</item>
/// <item>Rolled-back rows never appear; the holes they leave in <c>seq</c> mean nothing.</item>
/// </list>
/// </remarks>
public interface IChangeLogReader
{
    /// <summary>The epoch that names this log; offsets carry it.</summary>
    ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the rows after <paramref name="after"/> that match <paramref name="filter"/>, as many
    /// as <paramref name="limit"/> takes: up to its rows, and past the first row none that takes the
    /// page's payloads beyond its bytes (a batch cut by either bound is not complete).
    /// </summary>
    Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default);

    /// <summary>The newest tick this reader sees (0 when it sees none).</summary>
    Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The newest rows up to the end of tick <paramref name="throughTick"/>, in position order, and
    /// the position after which they are every row (to fill the recent-events window at start-up).
    /// The read goes back at most <paramref name="count"/> rows, and stops early at the row that
    /// takes their payloads (<see cref="LogEvent.PayloadSize"/>) past
    /// <paramref name="maxPayloadBytes"/>: the row it stops at is not returned, and is where
    /// coverage starts.
    /// </summary>
    Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default);

    /// <summary>
    /// Where an offset's event is: its full position, or why there is none (pruned by retention,
    /// beyond the newest tick, or no event of that tick).
    /// </summary>
    Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes a tick now if a committed row is in none yet (any node may; ticks are serialised in
    /// the database) and returns the newest tick: every event committed before the call is in it
    /// or before it.
    /// </summary>
    Task<long> TickNowAsync(CancellationToken cancellationToken = default);
}

/// <summary>A batch of rows in position order.</summary>
/// <param name="Events">The rows, within the limit asked for.</param>
/// <param name="Through">
/// The read covered every position up to this one: the last row when a bound of the limit cut the
/// batch, else the end of the last tick examined. Continue after it.
/// </param>
/// <param name="Complete">Whether <see cref="Through"/> is the end of the newest tick the read saw: nothing more to read for now.</param>
/// <param name="PrunedThrough">Retention has deleted every row at or before this position (Start: nothing pruned).</param>
public sealed record LogBatch(IReadOnlyList<LogEvent> Events, LogPosition Through, bool Complete, LogPosition PrunedThrough = default);

/// <summary>The newest rows of the log and the position they follow: every row after <paramref name="CoveredFrom"/> is among them.</summary>
public sealed record RecentRows(IReadOnlyList<LogEvent> Events, LogPosition CoveredFrom);

/// <summary>The answer of <see cref="IChangeLogReader.LookUpAsync"/>.</summary>
public enum OffsetLookupResult { Found, Pruned, BeyondHead, NoSuchEvent, FormatChanged }

/// <summary>An offset's position when <see cref="Result"/> is <see cref="OffsetLookupResult.Found"/>.</summary>
public readonly record struct OffsetLookup(OffsetLookupResult Result, LogPosition Position);
