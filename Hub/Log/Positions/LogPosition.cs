namespace EventHub.Log;

/// <summary>
/// A position in the change log: the tick whose batch holds the row, then the writing
/// transaction's id, then the row's <c>seq</c>. The delivery order is the order of positions
/// (docs/design.md, "Ordering: ticks"): a row belongs to the first tick whose snapshot sees its
/// transaction committed, and ticks are never rewritten, so the order is final and the same on
/// every node. It is not commit order and not <c>seq</c> order.
/// </summary>
public readonly record struct LogPosition(long Tick, ulong TransactionId, long Seq) : IComparable<LogPosition>
{
    /// <summary>Before every row of the log (the offset <c>"0"</c>).</summary>
    public static LogPosition Start => default;

    /// <summary>After every row of tick <paramref name="tick"/> and of the ticks before it.</summary>
    public static LogPosition EndOf(long tick) => new(tick, ulong.MaxValue, long.MaxValue);

    /// <summary>
    /// Retention's mark as <c>eventhub_retention</c> stores it (tick, xid as text, seq): every row at
    /// or before it is gone; <see cref="Start"/> when nothing was pruned (tick 0, xid 0 or none).
    /// </summary>
    public static LogPosition PrunedThrough(long tick, string? xid, long seq) =>
        tick == 0 && xid is null or "0"
            ? Start
            : new LogPosition(tick, ulong.Parse(xid!, System.Globalization.CultureInfo.InvariantCulture), seq);

    /// <summary>Whether this is <see cref="EndOf"/> a tick rather than a row's position.</summary>
    public bool IsTickEnd => TransactionId == ulong.MaxValue && Seq == long.MaxValue;

    public int CompareTo(LogPosition other)
    {
        var c = Tick.CompareTo(other.Tick);
        if (c != 0) return c;
        c = TransactionId.CompareTo(other.TransactionId);
        return c != 0 ? c : Seq.CompareTo(other.Seq);
    }

    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogPosition a, LogPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogPosition a, LogPosition b) => a.CompareTo(b) >= 0;

    public static LogPosition Max(LogPosition a, LogPosition b) => a >= b ? a : b;

    public override string ToString() => IsTickEnd ? $"(end of tick {Tick})" : $"({Tick},{TransactionId},{Seq})";
}
