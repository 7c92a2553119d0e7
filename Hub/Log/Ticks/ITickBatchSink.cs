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
}
