using EventHub.Log;

namespace EventHub.Observability;

/// <summary>
/// How long the oldest committed row this node has not published has waited
/// (<c>eventhub_tail_lag_milliseconds</c>), from the tail-lag sampler's findings: 0 when nothing
/// waits, otherwise the time since the first sample that found rows waiting which the tail has not
/// published yet (so it reads up to a sample interval, 2 s, short of the rows' real wait).
/// </summary>
/// <remarks>
/// It was the delay of the last event published: 0 (or that event's milliseconds) for as long as a
/// stalled tail left rows waiting (replay paused on the replica it reads, no node ticking), and a
/// late batch's delay for minutes of an idle log after it.
/// A sample's rows are published once the tail has published the ticks that hold them: every row
/// committed by the sample is in a tick up to the newest one then (<see cref="Waiting.HeadTick"/>)
/// or, if some were in no tick, in the next. A tick made while the sample ran can miss a row the
/// sample counted, which then comes in the tick after: the wait ends a tick (a millisecond) early.
/// While samples fail (the database down) nothing is known, and the last finding would go on
/// being reported as if it were current: the wait then grows from the last sample that succeeded.
/// </remarks>
public sealed class UnpublishedWait(TimeProvider time)
{
    /// <summary>A sample that found rows waiting: when, and the position the tail must reach to have published them.</summary>
    private readonly record struct Waiting(long Since, LogPosition PublishedThrough);

    private readonly Lock _lock = new();
    // Oldest first, each waiting for a later position: one entry per sample while the tail stands
    // still and ticks are made (1,800 an hour of a stall), dropped as the tail publishes them.
    private readonly Queue<Waiting> _waiting = new();
    private LogPosition _newestWaitsFor;
    private long? _lastSampleTimestamp;
    private bool _sampleFailing;

    /// <summary>
    /// Records a sample: <paramref name="unpublished"/> committed rows were unpublished, the newest
    /// tick was <paramref name="headTick"/> and <paramref name="rowsInNoTick"/> tells whether some
    /// of them were in no tick yet.
    /// </summary>
    public void Sampled(long unpublished, long headTick, bool rowsInNoTick)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            _lastSampleTimestamp = now;
            _sampleFailing = false;
            if (unpublished == 0)
            {
                _waiting.Clear();
                return;
            }
            // Rows in no tick come in the next one; the others are in ticks up to the head.
            var through = LogPosition.EndOf(rowsInNoTick ? headTick + 1 : headTick);
            // An older entry waiting for as much or more covers this sample's rows, and is older.
            if (_waiting.Count == 0 || _newestWaitsFor < through)
            {
                _waiting.Enqueue(new Waiting(now, through));
                _newestWaitsFor = through;
            }
        }
    }

    /// <summary>Records a sample that failed (its findings unknown).</summary>
    public void SampleFailed()
    {
        lock (_lock) _sampleFailing = true;
    }

    /// <summary>The current wait, the tail having published up to <paramref name="tailPosition"/>.</summary>
    public TimeSpan Current(LogPosition tailPosition)
    {
        lock (_lock)
        {
            while (_waiting.TryPeek(out var oldest) && tailPosition >= oldest.PublishedThrough) _waiting.Dequeue();
            long? since = _waiting.TryPeek(out var waiting) ? waiting.Since : null;
            if (_sampleFailing && _lastSampleTimestamp is { } last && (since is null || last < since)) since = last;
            return since is { } s ? time.GetElapsedTime(s) : TimeSpan.Zero;
        }
    }
}
