using System.Globalization;
using Dapper;
using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Whether a previous core's position <c>(xid, seq)</c> maps exactly into the first tick
/// (migration 0007 says why it can).
/// </summary>
/// <remarks>
/// The position is exact in the first tick when every row at or before it is in that tick and none
/// after it in the tick was delivered before it. That core handed out <c>(x, s)</c> only once every
/// xid below <c>x</c> had ended, so it holds when <c>x</c> is in the first tick's snapshot and every
/// xid that was in progress then and is below <c>x</c> has ended since without writing to the log
/// (one of another database, or a read-only one). Below the first tick's xmin that is always so; the
/// first tick itself may be gone to retention, then only that is used.
/// </remarks>
public static class LegacyOffsetSql
{
    /// <summary>Parameter: <c>@x</c>, the xid as text. Null when the schema has no epoch row (never, after migrations).</summary>
    public const string Text = """
        SELECT CASE WHEN t.tick_id IS NULL THEN @x::xid8 < e.genesis_xmin
                    ELSE pg_visible_in_snapshot(@x::xid8, t.snap) AND NOT EXISTS (
                        SELECT 1 FROM pg_snapshot_xip(t.snap) AS p(x)
                        WHERE p.x < @x::xid8
                          AND (pg_xact_status(p.x) IS NOT DISTINCT FROM 'in progress'
                               OR EXISTS (SELECT 1 FROM change_log c WHERE c.tx_id = p.x))) END
        FROM eventhub_epoch e LEFT JOIN eventhub_tick t ON t.tick_id = 1
        """;

    public static async Task<bool> IsExactAsync(NpgsqlConnection connection, ulong transactionId, CancellationToken cancellationToken) =>
        await connection.QuerySingleAsync<bool?>(new CommandDefinition(Text,
            new { x = transactionId.ToString(CultureInfo.InvariantCulture) }, cancellationToken: cancellationToken)) == true;
}
