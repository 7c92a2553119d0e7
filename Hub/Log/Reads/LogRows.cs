using System.Globalization;

namespace EventHub.Log;

/// <summary>Builds a <see cref="LogEvent"/> from a change_log row as the readers select it (xid as text, timestamps as UTC).</summary>
internal static class LogRows
{
    public static LogEvent ToEvent(string epoch, long tick, string tx, long seq, string project, string? session,
        string type, string payload, DateTime createdAt, RepeatedStrings strings)
    {
        var position = new LogPosition(tick, ulong.Parse(tx, CultureInfo.InvariantCulture), seq);
        return new LogEvent(position, Offset.Format(epoch, position), seq, strings.Share(project), strings.ShareOrNull(session),
            strings.Share(type), payload, Utc(createdAt));
    }

    /// <param name="payload">The payload's JSON text as UTF-8 (Npgsql reads a text column as bytes without decoding it).</param>
    public static LogEvent ToEvent(string epoch, long tick, string tx, long seq, string project, string? session,
        string type, byte[] payload, DateTime createdAt, RepeatedStrings strings) =>
        ToEvent(epoch, new LogPosition(tick, ulong.Parse(tx, CultureInfo.InvariantCulture), seq), project, session, type, payload, createdAt, strings);

    /// <param name="payload">The payload's JSON text as UTF-8 (Npgsql reads a text column as bytes without decoding it).</param>
    public static LogEvent ToEvent(string epoch, LogPosition position, string project, string? session,
        string type, byte[] payload, DateTime createdAt, RepeatedStrings strings) =>
        new(position, Offset.Format(epoch, position), position.Seq, strings.Share(project), strings.ShareOrNull(session),
            strings.Share(type), payload, Utc(createdAt));

    private static DateTimeOffset Utc(DateTime createdAt) => new(DateTime.SpecifyKind(createdAt, DateTimeKind.Utc));
}
