using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace EventHub.Log;

/// <summary>
/// The opaque offset string clients hold: <c>{epoch}-{tick}-{seq}</c> (tick and seq in lowercase
/// base 36; seq <c>0</c> means "after all of that tick"), or <c>"0"</c> for the start of the log.
/// Clients store it and send it back; they never compute with it.
/// </summary>
/// <remarks>
/// The epoch names the log (it is created with the schema), so an offset from another database,
/// or from before the schema was re-created, is recognised as foreign. The tick and the row's seq
/// name a position globally: a batch is a function of stored rows, so every node gives the same
/// event the same offset. The row's transaction id, which orders it inside its tick, is looked up
/// by seq (the primary key) when a client resumes. At most 38 characters.
/// The previous core's offsets (<c>{epoch}.{xid}.{seq}</c>, dots, never hyphens) still parse, as
/// <see cref="OffsetKind.Legacy"/>; the stream source maps them exactly or resets.
/// </remarks>
public static class Offset
{
    /// <summary>The offset that means "from the beginning of the log".</summary>
    public const string Beginning = "0";

    /// <summary>Longest input considered (a legacy offset: epoch + two 20-digit numbers).</summary>
    public const int MaxLength = 64;

    /// <summary>Longest offset this core produces: epoch, two separators, two 64-bit numbers in base 36.</summary>
    public const int MaxProducedLength = EpochLength + 2 + 2 * 13;

    /// <summary>Length of an epoch: ten lowercase hex digits, as the schema creates it (migration 0002).</summary>
    public const int EpochLength = 10;

    /// <summary>The offset of a position: a row's, or the end of a tick.</summary>
    public static string Format(string epoch, LogPosition position)
    {
        if (position == LogPosition.Start) return Beginning;
        var seq = position.IsTickEnd ? "0" : Base36(position.Seq);
        return $"{epoch}-{Base36(position.Tick)}-{seq}";
    }

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
            offset = new ParsedOffset(null, OffsetKind.Beginning, 0, 0, 0);
            return true;
        }
        return text.Contains('-') ? TryParseTicked(text, out offset) : TryParseLegacy(text, out offset);
    }

    private static bool TryParseTicked(string text, out ParsedOffset? offset)
    {
        offset = null;
        var parts = text.Split('-');
        if (parts.Length != 3 || !IsEpoch(parts[0])) return false;
        if (!TryParseBase36(parts[1], out var tick) || tick < 1) return false;
        if (!TryParseBase36(parts[2], out var seq)) return false;
        offset = new ParsedOffset(parts[0], seq == 0 ? OffsetKind.TickEnd : OffsetKind.Event, tick, seq, 0);
        return true;
    }

    private static bool TryParseLegacy(string text, out ParsedOffset? offset)
    {
        offset = null;
        var parts = text.Split('.');
        if (parts.Length != 3 || !IsEpoch(parts[0])) return false;
        if (!ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var xid)) return false;
        if (!long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seq)) return false;
        // "{epoch}.0.0" was the start of that log (a reset on an empty log handed it out). Any
        // other zero is no position a log wrote.
        var start = xid == 0 && seq == 0;
        if (!start && (xid == 0 || seq <= 0)) return false;
        offset = new ParsedOffset(parts[0], start ? OffsetKind.Beginning : OffsetKind.Legacy, 0, seq, xid);
        return true;
    }

    private static string Base36(long value)
    {
        Span<char> buffer = stackalloc char[13];
        var i = buffer.Length;
        var v = (ulong)value;
        do
        {
            var digit = (int)(v % 36);
            buffer[--i] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
            v /= 36;
        } while (v > 0);
        return new string(buffer[i..]);
    }

    /// <summary>Canonical base 36 only (lowercase, no leading zero), so one position has one offset.</summary>
    private static bool TryParseBase36(string text, out long value)
    {
        value = 0;
        if (text.Length is 0 or > 13 || (text.Length > 1 && text[0] == '0')) return false;
        ulong v = 0;
        foreach (var c in text)
        {
            int digit;
            if (char.IsAsciiDigit(c)) digit = c - '0';
            else if (c is >= 'a' and <= 'z') digit = c - 'a' + 10;
            else return false;
            if (v > (ulong)(long.MaxValue - digit) / 36) return false;
            v = v * 36 + (ulong)digit;
        }
        value = (long)v;
        return true;
    }
}

/// <summary>What an offset names.</summary>
public enum OffsetKind
{
    /// <summary><c>"0"</c> (or a legacy <c>{epoch}.0.0</c>): the start of the log.</summary>
    Beginning,
    /// <summary><c>{epoch}-{tick}-0</c>: after all of a tick.</summary>
    TickEnd,
    /// <summary><c>{epoch}-{tick}-{seq}</c>: after one event.</summary>
    Event,
    /// <summary><c>{epoch}.{xid}.{seq}</c>: the previous core's offset.</summary>
    Legacy,
}

/// <summary>A syntactically valid offset. <see cref="Epoch"/> is null for <see cref="Offset.Beginning"/>.</summary>
public sealed record ParsedOffset(string? Epoch, OffsetKind Kind, long Tick, long Seq, ulong LegacyTransactionId);
