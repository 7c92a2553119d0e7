namespace EventHub.Log;

/// <summary>
/// Which transactions had committed at one moment: PostgreSQL's <c>pg_current_snapshot()</c>
/// (<c>xmin:xmax:xip,...</c>). A transaction is visible (ended, and committed if it wrote rows
/// that exist) when its id is below <see cref="Xmin"/>, or below <see cref="Xmax"/> and not in
/// <see cref="InProgress"/>.
/// </summary>
/// <remarks>
/// "From now" cannot be a cut in position order: a transaction still open now sorts before rows
/// that committed earlier but wait behind it. So a stream that starts from now skips the events
/// of transactions visible in the snapshot taken when it opened, instead.
/// </remarks>
public sealed record LogSnapshot(ulong Xmin, ulong Xmax, IReadOnlySet<ulong> InProgress)
{
    public bool IsVisible(ulong transactionId) =>
        transactionId < Xmin || (transactionId < Xmax && !InProgress.Contains(transactionId));

    /// <summary>Parses the text form of <c>pg_snapshot</c>: <c>xmin:xmax:xip1,xip2</c>.</summary>
    public static LogSnapshot Parse(string text)
    {
        var parts = text.Split(':');
        var xip = parts.Length > 2 && parts[2].Length > 0
            ? parts[2].Split(',').Select(ulong.Parse).ToHashSet()
            : [];
        return new LogSnapshot(ulong.Parse(parts[0]), ulong.Parse(parts[1]), xip);
    }
}
