using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace EventHub.Log;

/// <summary>
/// The opaque offset string clients hold: <c>{epoch}.{transaction id}.{seq}</c>, or <c>"0"</c>
/// for the start of the log (<c>{epoch}.0.0</c> is the start of that epoch's log). Clients store it and send it back; they never compute with it.
/// The epoch names the log (it is created with the schema), so an offset from another
/// database, or from before the schema was re-created, is recognised as foreign.
/// </summary>
public static class Offset
{
    /// <summary>The offset that means "from the beginning of the log".</summary>
    public const string Beginning = "0";

    /// <summary>Longest offset string a valid log position can produce (epoch + two 20-digit numbers).</summary>
    public const int MaxLength = 64;

    public static string Format(string epoch, LogPosition position) =>
        string.Create(CultureInfo.InvariantCulture, $"{epoch}.{position.TransactionId}.{position.Seq}");

    /// <summary>Length of an epoch: ten lowercase hex digits, as the schema creates it (migration 0002).</summary>
    public const int EpochLength = 10;

    /// <summary>
    /// Whether <paramref name="text"/> has the form of an epoch. Every log's epoch has it, so an
    /// offset whose epoch has not cannot come from another log: it is malformed (400), not a
    /// reason to reset a client that would then refetch its state for nothing.
    /// </summary>
    public static bool IsEpoch(string text) =>
        text.Length == EpochLength && text.All(c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    /// <summary>Parses the syntax of an offset; whether it belongs to this log is checked by the caller.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out ParsedOffset? offset)
    {
        offset = null;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength) return false;
        if (text == Beginning)
        {
            offset = new ParsedOffset(null, LogPosition.Start);
            return true;
        }
        var parts = text.Split('.');
        if (parts.Length != 3 || !IsEpoch(parts[0])) return false;
        if (!ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var xid)) return false;
        if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return false;
        // "{epoch}.0.0" is the start of that log: what Format gives for LogPosition.Start, which a
        // reset on an empty log hands out. Any other zero is no position a log writes.
        var start = xid == 0 && seq == 0;
        if (!start && (xid == 0 || seq <= 0)) return false;
        offset = new ParsedOffset(parts[0], new LogPosition(xid, seq));
        return true;
    }
}

/// <summary>A syntactically valid offset. <see cref="Epoch"/> is null for <see cref="Offset.Beginning"/>.</summary>
public sealed record ParsedOffset(string? Epoch, LogPosition Position);
