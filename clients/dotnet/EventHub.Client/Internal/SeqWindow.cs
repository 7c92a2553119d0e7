namespace EventHub.Client.Internal;

/// <summary>
/// Remembers the last <c>capacity</c> event <c>seq</c> values, to drop an event delivered twice
/// (the contract's idempotency key). The hub sends each event once after an offset and the client
/// resumes after the last event it yielded, so this is a guard, not the mechanism; what it drops
/// is counted and reported by the client (issue 14: duplicates are visible, not hidden).
/// </summary>
internal sealed class SeqWindow(int capacity)
{
    private readonly HashSet<long> _seen = [];
    private readonly long[] _ring = new long[Math.Max(1, capacity)];
    private int _next;

    /// <summary>Forgets every value (after a reset the log may be another one, with its own seq values).</summary>
    public void Clear()
    {
        _seen.Clear();
        _next = 0;
    }

    /// <summary>Records <paramref name="seq"/>; false when it was already among the remembered values.</summary>
    public bool Add(long seq)
    {
        if (_seen.Contains(seq)) return false;
        if (_seen.Count >= _ring.Length) _seen.Remove(_ring[_next]);
        _ring[_next] = seq;
        _next = (_next + 1) % _ring.Length;
        _seen.Add(seq);
        return true;
    }
}
