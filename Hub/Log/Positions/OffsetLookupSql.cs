using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// What the log knows of an offset's tick and seq, in one snapshot: the newest tick, the retention
/// bound, and the transaction of the row with that seq if tick <c>@tick</c>'s batch holds it.
/// </summary>
/// <remarks>
/// The row is found by its primary key and checked against the tick's two parts (the ended xids and
/// the snapshot range, as <see cref="TickBatchSql"/> reads them): a seq that exists but belongs to
/// another tick is no position of this tick.
/// </remarks>
public static class OffsetLookupSql
{
    /// <summary>Parameters: <c>@tick</c>, <c>@seq</c> (0 for a tick's end: no row).</summary>
    public const string Text = """
        SELECT (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick) AS head,
               p.pruned_through_tick AS prunedtick, p.pruned_through_xid::text AS prunedxid, p.pruned_through_seq AS prunedseq,
               (SELECT c.tx_id::text FROM change_log c, eventhub_tick t
                WHERE t.tick_id = @tick AND c.seq = @seq
                  AND (c.tx_id = ANY(t.ended) OR (c.tx_id >= t.lo AND c.tx_id < t.hi AND pg_visible_in_snapshot(c.tx_id, t.snap)))) AS tx
        FROM eventhub_retention p
        """;

    /// <summary>The answer (Dapper maps the columns to the constructor by name): the head tick, the last pruned position, the row's xid as text (null: not in the tick).</summary>
    public readonly record struct Answer(long Head, long PrunedTick, string PrunedXid, long PrunedSeq, string? Tx);

    public static Task<Answer> ReadAsync(NpgsqlConnection connection, long tick, long seq, CancellationToken cancellationToken) =>
        connection.QuerySingleAsync<Answer>(new CommandDefinition(Text, new { tick, seq }, cancellationToken: cancellationToken));
}
