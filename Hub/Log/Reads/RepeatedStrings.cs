using System.Collections.Concurrent;

namespace EventHub.Log;

/// <summary>
/// One instance of each string that repeats from row to row (project, session, event type), so the
/// events a reader makes share them instead of each holding a copy. Thread-safe; bounded: when it
/// holds <c>capacity</c> strings it starts over (a string then read gets a new instance, nothing else).
/// </summary>
/// <remarks>
/// Why: the recent-events window keeps 20,000 events, and right after a burst they are young
/// objects that the next collection copies; three strings of their own were ~120 of the ~750 bytes
/// an event held. The copy the database reader made is garbage at once (gen 0 only).
/// </remarks>
internal sealed class RepeatedStrings(int capacity = RepeatedStrings.DefaultCapacity)
{
    public const int DefaultCapacity = 4096;

    private readonly ConcurrentDictionary<string, string> _strings = new(StringComparer.Ordinal);
    private int _added;

    public string Share(string value)
    {
        if (_strings.TryGetValue(value, out var kept)) return kept;
        if (Interlocked.Increment(ref _added) > capacity)
        {
            // Racing threads may both clear, or add one string too many: the bound is approximate.
            _strings.Clear();
            Interlocked.Exchange(ref _added, 1);
        }
        return _strings.GetOrAdd(value, value);
    }

    public string? ShareOrNull(string? value) => value is null ? null : Share(value);
}
