namespace EventHub.Log;

/// <summary>
/// Takes a tick's batch straight from the ticker that made it, so the ticking node publishes the
/// tick without reading it back (the tail implements it).
/// </summary>
/// <remarks>
/// Contract: <paramref name="events"/> is the whole batch of <paramref name="tick"/> in position
/// order, and the tick has committed (durably) before the call. The sink publishes it only when
/// it has published exactly through the end of the tick before, and returns whether it did; when
/// it did not, the caller wakes it and it reads the tick like any other.
/// </remarks>
public interface ITickBatchSink
{
    bool TryPublishTick(long tick, IReadOnlyList<LogEvent> events);

    /// <summary>
    /// The ticker starts a round: a tick the round makes is handed over (<see cref="TryPublishTick"/>)
    /// or announced to this node before <see cref="EndRound"/>. Its NOTIFY, sent at the tick's commit,
    /// can reach the sink first; the sink need not read the tick for it until the round has ended.
    /// </summary>
    void BeginRound();

    /// <summary>The round begun by <see cref="BeginRound"/> has ended (made a tick or not, failed or not).</summary>
    void EndRound();
}
