using System.Data;
using System.Globalization;
using EventHub.Storage;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// <see cref="IChangeLogReader"/> over PostgreSQL: batches of stored ticks (migration 0007) in
/// <c>(tick, tx_id, seq)</c> order. Each statement is a class of its own: <see cref="TickBatchSql"/>,
/// <see cref="RecentRowsSql"/>, <see cref="OffsetLookupSql"/>, <see cref="LegacyOffsetSql"/>,
/// <see cref="HeadTickSql"/>, <see cref="EpochSql"/>, <see cref="MakeTickSql"/>.
/// </summary>
/// <remarks>
/// A read sees a tick's row only after the tick's transaction committed, and that snapshot sees
/// every transaction the tick's snapshot saw committed (on a standby too: their commit records
/// precede the tick's in the WAL). So the rows of every tick a read returns are all there.
/// </remarks>
public sealed class ChangeLogReader : IChangeLogReader
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly NpgsqlDataSource _pageSource;
    private readonly Func<EventFilter, bool, string> _forwardSql;
    private readonly PrimaryPools? _pools;
    private readonly bool _boundPayloadsInDatabase;
    /// <summary>The epoch's one read, shared by every caller (null until asked, or after a read failed).</summary>
    private Task<string>? _epoch;
    private readonly Lock _epochLock = new();
    private readonly RepeatedStrings _strings = new();

    /// <param name="dataSource">Where every read goes.</param>
    /// <param name="pools">
    /// The primary's pools: a read on one of them in flight when the hub finds its sessions lost
    /// reads again on a new session (<see cref="PrimaryPools.SessionsLost"/>).
    /// </param>
    /// <param name="boundPayloadsInDatabase">
    /// Whether the page statement itself leaves out the payloads past a page's payload bound
    /// (<see cref="TickBatchSql.Forward"/>; the tail's reader: its pages may meet a burst of large
    /// payloads unannounced; catch-ups' pages are sized by the page before, and it costs them 9 %).
    /// </param>
    public ChangeLogReader(NpgsqlDataSource dataSource, PrimaryPools? pools = null, bool boundPayloadsInDatabase = false)
        : this(dataSource, dataSource, (filter, sorted) => TickBatchSql.Forward(filter, sorted, boundPayloadsInDatabase), pools)
    {
        _boundPayloadsInDatabase = boundPayloadsInDatabase;
    }

    /// <summary>
    /// Pages (<see cref="ReadAsync"/>) read from <paramref name="pageSource"/>, everything else from
    /// <paramref name="dataSource"/> (<see cref="LogDataSources.SplitForCatchUps"/> says why).
    /// </summary>
    public ChangeLogReader(NpgsqlDataSource dataSource, NpgsqlDataSource pageSource, PrimaryPools? pools = null)
        : this(dataSource, pageSource, (filter, sorted) => TickBatchSql.Forward(filter, sorted), pools) { }

    /// <summary>With the forward read's statement given (tests: a statement whose plan misorders a page).</summary>
    internal ChangeLogReader(NpgsqlDataSource dataSource, Func<EventFilter, bool, string> forwardSql) : this(dataSource, dataSource, forwardSql, null) { }

    private ChangeLogReader(NpgsqlDataSource dataSource, NpgsqlDataSource pageSource, Func<EventFilter, bool, string> forwardSql,
        PrimaryPools? pools)
    {
        _dataSource = dataSource;
        _pageSource = pageSource;
        _forwardSql = forwardSql;
        _pools = pools;
    }

    private CancellationToken SessionsLostOf(NpgsqlDataSource source) => _pools?.SessionsLostOf(source) ?? CancellationToken.None;

    /// <remarks>
    /// One read for all callers: every stream open needs the epoch, and 1,000 SSE opens on a hub
    /// that had not read it yet each opened a session to read it (90 new backends at once, the
    /// opens' headers 1.3-1.5 s late; <c>ChangeLogReaderEpochTests</c>). A failed read is not kept:
    /// the next caller reads again. The read does not take a caller's token (another caller may be
    /// waiting for it); each caller stops waiting on its own token.
    /// </remarks>
    public async ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default)
    {
        Task<string> epoch;
        lock (_epochLock)
        {
            if (_epoch is null || _epoch.IsFaulted || _epoch.IsCanceled) _epoch = ReadEpochAsync();
            epoch = _epoch;
        }
        return await epoch.WaitAsync(cancellationToken);
    }

    private Task<string> ReadEpochAsync() =>
        PooledSessions.RunAsync(_dataSource, EpochSql.ReadAsync, CancellationToken.None, SessionsLostOf(_dataSource));

    public async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit,
        CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        // A tick's end reads on from the next tick, whole.
        var (tick, x, s) = after.IsTickEnd ? (after.Tick + 1, 0UL, 0L) : (after.Tick, after.TransactionId, after.Seq);
        var parameters = PageParameters(tick, x, s, limit, filter, _boundPayloadsInDatabase);

        var page = await PooledSessions.RunAsync(_pageSource, async (connection, token) =>
        {
            var page = await ReadPageAsync(connection, epoch, _forwardSql(filter, false), parameters, limit, token);
            // The statement orders the page by its plan, not by an ORDER BY (TickBatchSql.Forward says
            // why that holds). A plan that ever returned the rows otherwise may also have kept other
            // rows than the first: read the page again with the statement that sorts before its LIMIT.
            return page.Ordered ? page : await ReadPageAsync(connection, epoch, _forwardSql(filter, true), parameters, limit, token);
        }, cancellationToken, SessionsLostOf(_pageSource));
        var events = page.Events;
        if (!page.Ordered) events.Sort((a, b) => a.Position.CompareTo(b.Position));
        if (events.Count >= limit.Rows || page.Cut)
            return new LogBatch(events, events[^1].Position, Complete: false, page.Pruned);
        // Short: every row of the ticks examined is here. Complete when they run to the newest
        // tick, or when there is no tick after the cursor at all (not one examined).
        var through = page.LastTick is { } last ? LogPosition.Max(after, LogPosition.EndOf(last)) : after;
        var complete = page.LastTick is null || page.LastTick == page.HeadTick;
        return new LogBatch(events, through, complete, page.Pruned);
    }

    /// <summary>
    /// A page's rows as events, its header, whether the rows came in position order, and whether
    /// the limit's payload bound dropped rows after the events kept.
    /// </summary>
    private sealed record Page(List<LogEvent> Events, long? HeadTick, long? LastTick, LogPosition Pruned, bool Ordered, bool Cut);

    /// <remarks>
    /// A prepared statement: a page is read in 3.5-5 ms of the database's time, of which parsing
    /// and planning this statement took ~1 ms (lab, 1,000,000-row log). Npgsql keeps it prepared on
    /// the physical connection across the pool's opens, so each of the pool's sessions parses it
    /// once; PostgreSQL plans its first five executions with their values and then keeps a generic
    /// plan when that is no dearer, which it is here. LargeLogPlanTests checks that the generic
    /// plan is the same index range scans in position order as the custom one.
    /// Rows become events as they arrive, payloads as UTF-8 bytes (Npgsql reads a text column
    /// without decoding it; as strings they took twice their size until each event's JSON was
    /// built). Past the limit's payload bound a row is not kept, so a page holds its bound however
    /// large the payloads of its rows (a tail read of 1,000 rows of 1 MB held 2 GB of strings);
    /// the rest of the page's rows are still read, for their positions only: the order check
    /// covers the whole page, or a misordered plan's row below the last one kept would be lost.
    /// The tail's statement counts the bound too, on the payloads as stored, and sends the rows
    /// past it without their payloads (<see cref="TickBatchSql.Forward"/>).
    /// </remarks>
    private async Task<Page> ReadPageAsync(NpgsqlConnection connection, string epoch, string sql, NpgsqlParameter[] parameters,
        PageLimit limit, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var p in parameters) command.Parameters.Add(p.Clone());
        await command.PrepareAsync(cancellationToken);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleResult, cancellationToken);
        var events = new List<LogEvent>(Math.Min(limit.Rows, 1024));
        long? headTick = null, lastTick = null;
        var pruned = LogPosition.Start;
        var header = false;
        bool ordered = true, cut = false;
        var previous = LogPosition.Start;
        long bytes = 0;
        // The header comes on every row, and on one row of nulls when nothing matched.
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!header)
            {
                header = true;
                headTick = NullableInt64(reader, TickBatchSql.HeadTick);
                lastTick = NullableInt64(reader, TickBatchSql.LastTick);
                pruned = PrunedOf(reader);
            }
            if (reader.IsDBNull(TickBatchSql.Tx)) continue;
            var position = PositionOf(reader);
            ordered &= previous < position;
            previous = position;
            if (cut) continue;
            // Null: past the bound as the database counts it (stored sizes), which sent no payload;
            // else past it as read.
            if (reader.IsDBNull(TickBatchSql.Payload))
            {
                cut = true;
                continue;
            }
            var payload = reader.GetFieldValue<byte[]>(TickBatchSql.Payload);
            if (!limit.Admits(events.Count, bytes, payload.Length))
            {
                cut = true;
                continue;
            }
            bytes += payload.Length;
            events.Add(ReadEvent(reader, epoch, position, payload));
        }
        return new Page(events, headTick, lastTick, pruned, ordered, cut);
    }

    // The row columns (TickBatchSql.RowColumns) and the retention bound of the reads' rows.
    private static LogPosition PositionOf(NpgsqlDataReader reader) => new(reader.GetInt64(TickBatchSql.TickId),
        ulong.Parse(reader.GetString(TickBatchSql.Tx), CultureInfo.InvariantCulture), reader.GetInt64(TickBatchSql.Seq));

    private LogEvent ReadEvent(NpgsqlDataReader reader, string epoch, LogPosition position, byte[] payload) =>
        LogRows.ToEvent(epoch, position, reader.GetString(TickBatchSql.ProjectId),
            reader.IsDBNull(TickBatchSql.SessionId) ? null : reader.GetString(TickBatchSql.SessionId),
            reader.GetString(TickBatchSql.EventType), payload, reader.GetDateTime(TickBatchSql.CreatedAt), _strings);

    private static LogPosition PrunedOf(NpgsqlDataReader reader)
    {
        var xid = reader.IsDBNull(TickBatchSql.PrunedXid) ? null : reader.GetString(TickBatchSql.PrunedXid);
        return LogPosition.PrunedThrough(NullableInt64(reader, TickBatchSql.PrunedTick) ?? 0, xid, NullableInt64(reader, TickBatchSql.PrunedSeq) ?? 0);
    }

    private static long? NullableInt64(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default) =>
        PooledSessions.RunAsync(_dataSource, HeadTickSql.ReadAsync, cancellationToken, SessionsLostOf(_dataSource));

    public async Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default)
    {
        var epoch = await GetEpochAsync(cancellationToken);
        return await PooledSessions.RunAsync(_dataSource, (connection, token) => ReadLastAsync(connection, epoch, throughTick, count, maxPayloadBytes, token),
            cancellationToken, SessionsLostOf(_dataSource));
    }

    private async Task<RecentRows> ReadLastAsync(NpgsqlConnection connection, string epoch, long throughTick, int count, long maxPayloadBytes,
        CancellationToken cancellationToken)
    {
        // Rows come newest first and become events as they arrive: the read keeps what the
        // window will hold, not the count's worth of large payloads (read whole, 20,000 rows of
        // 10 KB grew the hub to 0.8-1.0 GiB resident). Leaving early makes Npgsql skip the rest of
        // the result on the wire; the statement is unchanged, and its LIMIT still bounds that.
        await using var command = new NpgsqlCommand(RecentRowsSql.Text, connection)
        {
            Parameters = { new NpgsqlParameter<long>("tick", throughTick), new NpgsqlParameter<int>("limit", count) },
        };
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleResult, cancellationToken);
        var header = false;
        long? firstTick = null;
        long ticks = 0;
        var pruned = LogPosition.Start;
        LogEvent? stoppedAt = null;
        var newestFirst = new List<LogEvent>();
        long bytes = 0;
        // The header comes on every row, and on one row of nulls when nothing matched.
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!header)
            {
                header = true;
                firstTick = NullableInt64(reader, RecentRowsSql.FirstTick);
                ticks = NullableInt64(reader, RecentRowsSql.Ticks) ?? 0;
                pruned = PrunedOf(reader);
            }
            if (reader.IsDBNull(TickBatchSql.Tx)) continue;
            var e = ReadEvent(reader, epoch, PositionOf(reader), reader.GetFieldValue<byte[]>(TickBatchSql.Payload));
            bytes += e.PayloadSize;
            if (newestFirst.Count + 1 >= count || bytes > maxPayloadBytes)
            {
                stoppedAt = e;
                break;
            }
            newestFirst.Add(e);
        }
        newestFirst.Reverse();
        // Every row after the one the read stopped at, if a bound stopped it; else every row of
        // the ticks examined, if the tick limit cut it; else the whole log (what retention left).
        LogPosition coveredFrom = stoppedAt is not null ? stoppedAt.Position
            : ticks >= count && firstTick is { } first ? LogPosition.EndOf(first - 1)
            : LogPosition.Start;
        return new RecentRows(newestFirst, LogPosition.Max(coveredFrom, pruned));
    }

    public Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default) =>
        offset.Kind == OffsetKind.Beginning
            ? Task.FromResult(new OffsetLookup(OffsetLookupResult.Found, LogPosition.Start))
            : PooledSessions.RunAsync(_dataSource, (connection, token) => LookUpAsync(connection, offset, token), cancellationToken,
                SessionsLostOf(_dataSource));

    private static async Task<OffsetLookup> LookUpAsync(NpgsqlConnection connection, ParsedOffset offset, CancellationToken cancellationToken)
    {
        if (offset.Kind == OffsetKind.Legacy)
            return await LegacyOffsetSql.IsExactAsync(connection, offset.LegacyTransactionId, cancellationToken)
                ? new OffsetLookup(OffsetLookupResult.Found, new LogPosition(1, offset.LegacyTransactionId, offset.Seq))
                : new OffsetLookup(OffsetLookupResult.FormatChanged, default);
        var found = await OffsetLookupSql.ReadAsync(connection, offset.Tick, offset.Kind == OffsetKind.Event ? offset.Seq : 0, cancellationToken);
        if (offset.Tick > found.Head) return new OffsetLookup(OffsetLookupResult.BeyondHead, default);
        if (offset.Kind == OffsetKind.TickEnd) return new OffsetLookup(OffsetLookupResult.Found, LogPosition.EndOf(offset.Tick));
        if (found.Tx is not null)
            return new OffsetLookup(OffsetLookupResult.Found, new LogPosition(offset.Tick, ulong.Parse(found.Tx, CultureInfo.InvariantCulture), offset.Seq));
        // The last pruned event itself is exact: retention recorded its position.
        if (offset.Tick == found.PrunedTick && offset.Seq == found.PrunedSeq)
            return new OffsetLookup(OffsetLookupResult.Found, new LogPosition(offset.Tick, ulong.Parse(found.PrunedXid, CultureInfo.InvariantCulture), offset.Seq));
        return offset.Tick <= found.PrunedTick
            ? new OffsetLookup(OffsetLookupResult.Pruned, default)
            : new OffsetLookup(OffsetLookupResult.NoSuchEvent, default);
    }

    /// <remarks>Run again on a new session when its session was found closed: a tick made twice is at most one more tick.</remarks>
    public Task<long> TickNowAsync(CancellationToken cancellationToken = default) =>
        PooledSessions.RunAsync(_dataSource, MakeTickSql.RunAsync, cancellationToken, SessionsLostOf(_dataSource));

    /// <summary>
    /// The forward read's parameters, each of one fixed type (a prepared statement is matched by
    /// its text and its parameters' types).
    /// </summary>
    private static NpgsqlParameter[] PageParameters(long tick, ulong x, long s, PageLimit limit, EventFilter filter, bool boundPayloads)
    {
        var parameters = new List<NpgsqlParameter>
        {
            new NpgsqlParameter<long>("tick", tick),
            new NpgsqlParameter<string>("x", x.ToString(CultureInfo.InvariantCulture)),
            new NpgsqlParameter<long>("s", s),
            new NpgsqlParameter<int>("limit", limit.Rows),
        };
        if (boundPayloads) parameters.Add(new NpgsqlParameter<long>("bytes", limit.PayloadBytes));
        if (filter.Projects is { Length: 1 } one) parameters.Add(new NpgsqlParameter<string>("project", one[0]));
        else if (filter.Projects is not null) parameters.Add(new NpgsqlParameter<string[]>("projects", filter.Projects));
        if (filter.HasTypeFilter)
        {
            parameters.Add(new NpgsqlParameter<string[]>("types", filter.ExactTypes!));
            parameters.Add(new NpgsqlParameter<string[]>("prefixes", filter.TypePrefixes!));
        }
        return [.. parameters];
    }

    /// <summary>The tail's read (unfiltered), for tests of its plan.</summary>
    internal static string TailReadSql => TickBatchSql.Forward(EventFilter.All, boundPayloads: true);
}
