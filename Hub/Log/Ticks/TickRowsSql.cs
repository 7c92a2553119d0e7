using Npgsql;

namespace EventHub.Log;

/// <summary>
/// The leader's look (<c>eventhub_tick_rows</c>, migrations 0010 and 0023): renews the lease, makes a tick if
/// a committed row is in none and returns its batch (the live state is folded later, migration 0022), up to the
/// hand-off's rows and payload bytes: one row per event of a new tick, each carrying the tick; otherwise one row with
/// null event columns (no tick made, another node holds the lease: <c>leader</c> false, or a batch
/// too large to return: <c>has_rows</c> false).
/// </summary>
public static class TickRowsSql
{
    public const string Text =
        "SELECT tick_id, made, leader, has_rows, tx, seq, project_id, session_id, event_type, payload, created_at FROM eventhub_tick_rows($1, $2, $3, $4)";

    // Column ordinals of Text.
    public const int TickId = 0, Made = 1, Leader = 2, HasRows = 3, Tx = 4, Seq = 5, ProjectId = 6, SessionId = 7, EventType = 8,
        Payload = 9, CreatedAt = 10;

    /// <param name="owner">This ticker's lease owner.</param>
    /// <param name="lease">How long the lease lasts from this look.</param>
    /// <param name="handOffRows">The most rows a tick returns.</param>
    /// <param name="handOffPayloadBytes">The most payload bytes, as stored, a tick returns (migration 0023).</param>
    public static NpgsqlBatchCommand Command(Guid owner, TimeSpan lease, int handOffRows, long handOffPayloadBytes) => new(Text)
    {
        Parameters =
        {
            new NpgsqlParameter<Guid> { TypedValue = owner }, new NpgsqlParameter<TimeSpan> { TypedValue = lease },
            new NpgsqlParameter<int> { TypedValue = handOffRows }, new NpgsqlParameter<long> { TypedValue = handOffPayloadBytes },
        },
    };

    /// <summary>The event of the reader's current row (its <see cref="Tx"/> is not null).</summary>
    internal static LogEvent ReadEvent(NpgsqlDataReader reader, string epoch, long tickId, RepeatedStrings strings) =>
        LogRows.ToEvent(epoch, tickId, reader.GetString(Tx), reader.GetInt64(Seq), reader.GetString(ProjectId),
            reader.IsDBNull(SessionId) ? null : reader.GetString(SessionId), reader.GetString(EventType), reader.GetFieldValue<byte[]>(Payload),
            reader.GetDateTime(CreatedAt), strings);
}
