namespace EventHub.Log;

/// <summary>
/// How much one forward read (<see cref="IChangeLogReader.ReadAsync"/>) returns: at most
/// <see cref="Rows"/> rows, and past its first row none that takes the page's payloads
/// (<see cref="LogEvent.PayloadSize"/>) beyond <see cref="PayloadBytes"/>. The byte bound is what a
/// page holds in memory whatever its rows' sizes; <see cref="For(int, long, double)"/> sizes the
/// row count from the payloads seen so that the database seldom sends rows the bound then drops.
/// </summary>
public readonly record struct PageLimit(int Rows, long PayloadBytes = long.MaxValue)
{
    /// <summary>A bound by rows only.</summary>
    public static implicit operator PageLimit(int rows) => new(rows);

    /// <summary>Whether a page of <paramref name="count"/> rows holding <paramref name="bytes"/> of payload takes a row of <paramref name="payloadSize"/> more.</summary>
    public bool Admits(int count, long bytes, int payloadSize) => count < Rows && (count == 0 || bytes + payloadSize <= PayloadBytes);

    /// <summary>
    /// A page of at most <paramref name="maxRows"/> rows and <paramref name="payloadBytes"/> of
    /// payload, of as many rows as payloads averaging <paramref name="averagePayloadSize"/> bytes
    /// fit in that (0: unknown, the row bound), at least one.
    /// </summary>
    public static PageLimit For(int maxRows, long payloadBytes, double averagePayloadSize) =>
        new(averagePayloadSize <= 0 ? maxRows : (int)Math.Clamp(payloadBytes / averagePayloadSize, 1, maxRows), payloadBytes);

    /// <summary>The page after <paramref name="page"/>, sized by its payloads (as <paramref name="current"/> when it was empty).</summary>
    public static PageLimit For(int maxRows, long payloadBytes, IReadOnlyList<LogEvent> page, PageLimit current)
    {
        if (page.Count == 0) return current;
        long bytes = 0;
        foreach (var e in page) bytes += e.PayloadSize;
        return For(maxRows, payloadBytes, (double)bytes / page.Count);
    }
}
