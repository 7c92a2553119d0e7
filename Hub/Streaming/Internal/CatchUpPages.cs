using EventHub.Log;

namespace EventHub.Streaming.Internal;

/// <summary>
/// How many rows a catch-up page asks for. Pages are bounded by rows
/// (<see cref="StreamOptions.CatchUpBatchSize"/>) and by their payloads' size
/// (<see cref="StreamOptions.CatchUpPagePayloadBytes"/>): a page takes as many rows as the payloads
/// of the last page read say fit, so a log of large payloads is not read 1,000 rows at a time (a
/// catch-up holds two pages, and eight run at once). The LIMIT stays exact: no row is read and
/// dropped, and a page whose payloads are larger than the last one's is over the aim by that much.
/// </summary>
internal static class CatchUpPages
{
    /// <summary>Rows for a page whose payloads are expected to average <paramref name="averagePayloadSize"/> bytes (0: unknown).</summary>
    public static int Rows(StreamOptions options, double averagePayloadSize) =>
        averagePayloadSize <= 0 ? options.CatchUpBatchSize
            : (int)Math.Clamp(options.CatchUpPagePayloadBytes / averagePayloadSize, 1, options.CatchUpBatchSize);

    /// <summary>Rows for the page after <paramref name="page"/> (the same as before when it was empty).</summary>
    public static int RowsAfter(StreamOptions options, IReadOnlyList<LogEvent> page, int current)
    {
        if (page.Count == 0) return current;
        long bytes = 0;
        foreach (var e in page) bytes += e.PayloadSize;
        return Rows(options, (double)bytes / page.Count);
    }
}
