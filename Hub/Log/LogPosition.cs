namespace EventHub.Log;

/// <summary>
/// A position in the change log: the writing transaction's id, then the row's <c>seq</c>.
/// The log's delivery order is the order of positions (see docs/design.md): it is not
/// commit order and not <c>seq</c> order, but it is final, because a reader only reads rows
/// of transactions that have ended, and every later-ending transaction has a larger id
/// than every row already read.
/// </summary>
public readonly record struct LogPosition(ulong TransactionId, long Seq) : IComparable<LogPosition>
{
    /// <summary>Before every row of the log (the offset <c>"0"</c>).</summary>
    public static LogPosition Start => default;

    public int CompareTo(LogPosition other)
    {
        var c = TransactionId.CompareTo(other.TransactionId);
        return c != 0 ? c : Seq.CompareTo(other.Seq);
    }

    public static bool operator <(LogPosition a, LogPosition b) => a.CompareTo(b) < 0;
    public static bool operator >(LogPosition a, LogPosition b) => a.CompareTo(b) > 0;
    public static bool operator <=(LogPosition a, LogPosition b) => a.CompareTo(b) <= 0;
    public static bool operator >=(LogPosition a, LogPosition b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"({TransactionId},{Seq})";
}
