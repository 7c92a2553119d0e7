using System.Globalization;

namespace EventHub.Log;

/// <summary>Builds a <see cref="LogEvent"/> from a change_log row as the readers select it (xid as text, timestamps as UTC).</summary>
internal static class LogRows
{
    public static LogEvent ToEvent(string epoch, long tick, string tx, long seq, string project, string? session,
        string type, string payload, DateTime createdAt)
    {
        var position = new LogPosition(tick, ulong.Parse(tx, CultureInfo.InvariantCulture), seq);
        return new LogEvent(position, Offset.Format(epoch, position), seq, project, session, type, payload,
            new DateTimeOffset(DateTime.SpecifyKind(createdAt, DateTimeKind.Utc)));
    }
}
