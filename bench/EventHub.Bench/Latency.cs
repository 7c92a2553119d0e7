using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;

namespace EventHub.Bench;

/// <summary>Log-linear histogram of microseconds (64 sub-buckets per power of two, ~1.6 % precision), thread-safe.</summary>
public sealed class Histogram
{
    private const int Sub = 64;
    private readonly long[] _counts = new long[Sub + 40 * Sub];
    private long _max;
    private long _total;

    public long Count => Interlocked.Read(ref _total);

    public void Record(long micros)
    {
        if (micros < 0) micros = 0;
        Interlocked.Increment(ref _counts[Index(micros)]);
        Interlocked.Increment(ref _total);
        var max = Volatile.Read(ref _max);
        while (micros > max)
        {
            var seen = Interlocked.CompareExchange(ref _max, micros, max);
            if (seen == max) break;
            max = seen;
        }
    }

    private static int Index(long v)
    {
        if (v < Sub) return (int)v;
        var e = 63 - BitOperations.LeadingZeroCount((ulong)v); // >= 6
        var sub = (int)((v >> (e - 6)) & (Sub - 1));
        return Math.Min(Sub + (e - 6) * Sub + sub, Sub + 40 * Sub - 1);
    }

    private static long UpperValue(int index)
    {
        if (index < Sub) return index;
        var e = (index - Sub) / Sub + 6;
        var sub = (index - Sub) % Sub;
        return ((long)(Sub + sub) << (e - 6)) + (1L << (e - 6)) - 1;
    }

    /// <summary>Percentile in microseconds (upper bound of its bucket, capped by the max).</summary>
    public long Percentile(double p)
    {
        var total = Count;
        if (total == 0) return 0;
        var rank = (long)Math.Ceiling(total * p / 100.0);
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += Interlocked.Read(ref _counts[i]);
            if (seen >= rank) return Math.Min(UpperValue(i), Max);
        }
        return Max;
    }

    public long Max => Volatile.Read(ref _max);
}

/// <summary>What one measured cell collects from every client.</summary>
public sealed class CellStats
{
    public Histogram Latency { get; } = new();
    private long _received;
    public long Received => Interlocked.Read(ref _received);
    public void AddReceived(long n) => Interlocked.Add(ref _received, n);
}

/// <summary>
/// Commit times of the events the writer produced, keyed by change_log seq, in the same process as
/// the clients (one monotonic clock). The writer learns an event's seq inside its transaction, so the
/// seq's cell is known before any client can see it; the commit time is recorded right after COMMIT
/// returns. A client that sees an event before that (the NOTIFY can beat the COMMIT reply) parks it,
/// and it is resolved when the cell ends, with latency max(0, receive - commit).
/// </summary>
public sealed class Timeline(int capacity)
{
    private readonly long[] _commit = new long[capacity];
    private readonly int[] _cell = new int[capacity];
    // Per event, the first and the last client's receive time: is a late event late for every
    // client (the hub or the database held it) or only for some (the fan-out or the clients)?
    private readonly long[] _first = new long[capacity];
    private readonly long[] _last = new long[capacity];
    private readonly ConcurrentQueue<(long Seq, long Received)> _early = new();
    private readonly CellStats?[] _cells = new CellStats?[4096];
    private int _cellCount;

    public int Capacity => capacity;

    public int NewCell(CellStats stats)
    {
        var id = Interlocked.Increment(ref _cellCount);
        _cells[id] = stats;
        return id;
    }

    public void Assign(long seq, int cell)
    {
        if (seq >= capacity) return;
        // A comparison run writes to two databases, whose seqs overlap: forget the other's commit time.
        Volatile.Write(ref _commit[seq], 0);
        Volatile.Write(ref _first[seq], 0);
        Volatile.Write(ref _last[seq], 0);
        Volatile.Write(ref _cell[seq], cell);
    }

    public void Committed(long seq, long timestamp)
    {
        if (seq < capacity) Volatile.Write(ref _commit[seq], timestamp);
    }

    /// <summary>Called by every client for every event it receives.</summary>
    public void OnReceived(long seq, long timestamp)
    {
        if (seq <= 0 || seq >= capacity) return;
        var cell = Volatile.Read(ref _cell[seq]);
        if (cell == 0) return; // not a measured event (warm-up, catch-up data)
        var stats = _cells[cell]!;
        stats.AddReceived(1);
        for (var f = Volatile.Read(ref _first[seq]); f == 0 || timestamp < f; f = Volatile.Read(ref _first[seq]))
            if (Interlocked.CompareExchange(ref _first[seq], timestamp, f) == f) break;
        for (var l = Volatile.Read(ref _last[seq]); timestamp > l; l = Volatile.Read(ref _last[seq]))
            if (Interlocked.CompareExchange(ref _last[seq], timestamp, l) == l) break;
        var commit = Volatile.Read(ref _commit[seq]);
        if (commit == 0) { _early.Enqueue((seq, timestamp)); return; }
        stats.Latency.Record(Micros(timestamp - commit));
    }

    /// <summary>Resolves the events that arrived before their COMMIT reply.</summary>
    public long ResolveEarly()
    {
        long n = 0;
        var keep = new List<(long, long)>();
        while (_early.TryDequeue(out var e))
        {
            var commit = Volatile.Read(ref _commit[e.Seq]);
            if (commit == 0) { keep.Add(e); continue; }
            _cells[_cell[e.Seq]]!.Latency.Record(Math.Max(0, Micros(e.Received - commit)));
            n++;
        }
        foreach (var e in keep) _early.Enqueue(e);
        return n;
    }

    /// <summary>
    /// Per event of <paramref name="cell"/> that reached a client: the latency of its first
    /// delivery (commit to the first client) and its spread (first to last client), in µs.
    /// </summary>
    public (Histogram First, Histogram Spread, List<(long Micros, long Commit)> Slowest) EventStats(int cell, int slowest = 3)
    {
        var first = new Histogram();
        var spread = new Histogram();
        // The slowest first deliveries with their commit times: when in the cell they happened, to
        // set beside the hub's GC, the cluster's log (autovacuum, lock waits) and the statements.
        var slow = new List<(long Micros, long Commit)>();
        for (var seq = 1; seq < capacity; seq++)
        {
            if (Volatile.Read(ref _cell[seq]) != cell) continue;
            var commit = Volatile.Read(ref _commit[seq]);
            var f = Volatile.Read(ref _first[seq]);
            if (commit == 0 || f == 0) continue;
            var micros = Math.Max(0, Micros(f - commit));
            first.Record(micros);
            spread.Record(Micros(Volatile.Read(ref _last[seq]) - f));
            slow.Add((micros, commit));
        }
        return (first, spread, slow.OrderByDescending(e => e.Micros).Take(slowest).ToList());
    }

    public static long Micros(long ticks) => ticks * 1_000_000 / Stopwatch.Frequency;
}
