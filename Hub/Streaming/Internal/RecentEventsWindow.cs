using EventHub.Log;

namespace EventHub.Streaming.Internal;

/// <summary>
/// The most recent events the tail published, in position order, so that catch-ups that start
/// inside it (a reconnect storm after a restart or a network blip) are served from memory and the
/// database sees a bounded number of queries rather than one per client.
/// </summary>
/// <remarks>
/// Invariant: the window holds <em>every</em> event with a position after <see cref="CoveredFrom"/>
/// up to <see cref="Head"/>. It starts covering from what the tail loaded at start-up and moves
/// <see cref="CoveredFrom"/> forward as it evicts its oldest event. A read after a position older
/// than that is refused, and the caller reads the log instead. The tail adds an event (and moves
/// the head to a tick's end) here before publishing it, so the window's head is never behind the
/// fan-out's. It also maps a seq to its position, so an offset inside it resolves without a query.
/// It is bounded twice: by a number of events and by the sum of their payloads' sizes, so that a
/// log of large payloads (a future event family that carries a document) does not hold the
/// count's worth of them; an event larger than the byte bound on its own is evicted at once.
/// </remarks>
public sealed class RecentEventsWindow
{
    private readonly Lock _gate = new();
    private readonly LogEvent[] _ring;
    private readonly Dictionary<long, LogPosition> _bySeq = [];
    private readonly long _maxPayloadBytes;
    private int _start;
    private int _count;
    private long _payloadBytes;
    private bool _initialized;
    private long _hits;
    private long _misses;

    /// <param name="capacity">The most events the window holds.</param>
    /// <param name="maxPayloadBytes">The most payload bytes (<see cref="LogEvent.PayloadSize"/>) the window holds.</param>
    public RecentEventsWindow(int capacity, long maxPayloadBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPayloadBytes, 1);
        _ring = new LogEvent[capacity];
        _maxPayloadBytes = maxPayloadBytes;
    }

    /// <summary>The window holds every event after this position.</summary>
    public LogPosition CoveredFrom { get; private set; }

    /// <summary>The window holds every event up to this position.</summary>
    public LogPosition Head { get { lock (_gate) return _head; } }
    private LogPosition _head;

    public int Count { get { lock (_gate) return _count; } }
    /// <summary>The sum of the held events' payload sizes, at most the byte bound.</summary>
    public long PayloadBytes { get { lock (_gate) return _payloadBytes; } }
    /// <summary>The held events' average payload size in bytes (0 when the window is empty).</summary>
    public double AveragePayloadSize { get { lock (_gate) return _count == 0 ? 0 : (double)_payloadBytes / _count; } }
    /// <summary>Catch-up reads served from memory.</summary>
    public long Hits => Interlocked.Read(ref _hits);
    /// <summary>Catch-up reads that started before the window and went to the log.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>
    /// Starts the window (called once by the tail) with the last events of the log up to the
    /// tail's starting point, so that clients reconnecting after a hub restart are served from
    /// memory. <paramref name="coveredFrom"/> is the position just before the first of them,
    /// <paramref name="head"/> the position they run up to.
    /// </summary>
    public void Initialize(LogPosition coveredFrom, IReadOnlyList<LogEvent> recent, LogPosition head)
    {
        lock (_gate)
        {
            CoveredFrom = coveredFrom;
            // Every one is added: the bounds evict the oldest and move the coverage past them.
            foreach (var e in recent) AddLocked(e);
            _head = LogPosition.Max(head, _head);
            _initialized = true;
            PruneLocked(_prunedThrough);
        }
    }

    /// <summary>
    /// Retention deleted every row at or before <paramref name="through"/>: the window drops what it
    /// holds there and covers only from there on, so that a position at or before it is read from
    /// the log, which answers it with the reset.
    /// </summary>
    /// <remarks>
    /// Race guarded: the window outlives the rows it holds. Without this, a node whose window held
    /// events retention had since deleted served an offset among them (and "0", from the start) from
    /// memory, while a node that started after the prune answered the same offset with a reset and
    /// "0" with what remained: two nodes, two answers (found by an operator's two-node trial).
    /// </remarks>
    public void Prune(LogPosition through)
    {
        lock (_gate)
        {
            _prunedThrough = LogPosition.Max(_prunedThrough, through);
            if (_initialized) PruneLocked(_prunedThrough);
        }
    }

    private LogPosition _prunedThrough;

    private void PruneLocked(LogPosition through)
    {
        if (through == LogPosition.Start) return;
        while (_count > 0 && _ring[_start].Position <= through) EvictOldestLocked();
        CoveredFrom = LogPosition.Max(CoveredFrom, through);
    }

    /// <summary>Appends an event; called by the tail in position order.</summary>
    public void Add(LogEvent e)
    {
        lock (_gate) AddLocked(e);
    }

    /// <summary>Every event up to <paramref name="head"/> (the end of a tick the tail read) is here.</summary>
    public void AdvanceTo(LogPosition head)
    {
        lock (_gate) _head = LogPosition.Max(head, _head);
    }

    /// <summary>The position of the event with this seq in tick <paramref name="tick"/>, if the window holds it.</summary>
    public bool TryFind(long tick, long seq, out LogPosition position)
    {
        lock (_gate)
            return _bySeq.TryGetValue(seq, out position) && position.Tick == tick;
    }

    private void AddLocked(LogEvent e)
    {
        _head = LogPosition.Max(e.Position, _head);
        if (_count == _ring.Length) EvictOldestLocked();
        _ring[(_start + _count) % _ring.Length] = e;
        _count++;
        _bySeq[e.Seq] = e.Position;
        _payloadBytes += e.PayloadSize;
        while (_payloadBytes > _maxPayloadBytes) EvictOldestLocked();
    }

    private void EvictOldestLocked()
    {
        var oldest = _ring[_start];
        CoveredFrom = oldest.Position;
        _bySeq.Remove(oldest.Seq);
        _payloadBytes -= oldest.PayloadSize;
        _ring[_start] = null!;
        _start = (_start + 1) % _ring.Length;
        _count--;
    }

    /// <summary>
    /// Copies up to <paramref name="limit"/> events after <paramref name="after"/> that match the
    /// filter into <paramref name="into"/>. Returns false, copying nothing, when the window does not
    /// cover <paramref name="after"/>; the caller then reads the log.
    /// </summary>
    public bool TryRead(LogPosition after, EventFilter filter, int limit, List<LogEvent> into)
    {
        lock (_gate)
        {
            if (!_initialized || after < CoveredFrom)
            {
                Interlocked.Increment(ref _misses);
                return false;
            }
            // Binary search for the first event after `after`.
            int lo = 0, hi = _count;
            while (lo < hi)
            {
                var mid = (lo + hi) >>> 1;
                if (At(mid).Position <= after) lo = mid + 1; else hi = mid;
            }
            for (var i = lo; i < _count && into.Count < limit; i++)
            {
                var e = At(i);
                if (filter.Matches(e)) into.Add(e);
            }
            Interlocked.Increment(ref _hits);
            return true;
        }
    }

    private LogEvent At(int i) => _ring[(_start + i) % _ring.Length];
}
