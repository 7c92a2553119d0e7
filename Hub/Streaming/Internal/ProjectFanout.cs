using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using EventHub.Log;

namespace EventHub.Streaming.Internal;

/// <summary>
/// <see cref="IEventFanout"/> with one copy-on-write subscriber array per project, plus one for
/// subscriptions to all projects. Publishing an event looks up its project once and offers the
/// event to that array and the all-projects array: cost grows with the project's subscribers,
/// not with all connections.
/// </summary>
public sealed class ProjectFanout : IEventFanout
{
    // Guards the dictionary, the arrays' replacement and _head. Publish holds it only to read the
    // arrays and move the head, so Subscribe's "head" and its array insertion are atomic with
    // respect to a publish: an event is either at or before the returned head, or offered.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, ImmutableArray<Subscription>> _byProject = new(StringComparer.Ordinal);
    private ImmutableArray<Subscription> _allProjects = [];
    private LogPosition _head;
    private int _count;
    private long _lagged; // written by the single publisher only

    public LogPosition Head { get { lock (_gate) return _head; } }
    public int SubscriberCount => Volatile.Read(ref _count);

    /// <summary>How many times a subscription's buffer overflowed and it fell back to the log.</summary>
    public long LaggedTotal => Interlocked.Read(ref _lagged);

    /// <summary>Subscriptions per project (a stream of several projects counts in each), and to all projects.</summary>
    public (IReadOnlyDictionary<string, int> ByProject, int AllProjects) SubscriberCounts()
    {
        lock (_gate)
            return (_byProject.ToDictionary(p => p.Key, p => p.Value.Length, StringComparer.Ordinal), _allProjects.Length);
    }

    public void Initialize(LogPosition head)
    {
        lock (_gate) _head = head;
    }

    public void Advance(LogPosition head)
    {
        lock (_gate) _head = LogPosition.Max(head, _head);
    }

    public LogPosition Subscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (subscription.Filter.Projects is null)
                _allProjects = _allProjects.Add(subscription);
            else
                foreach (var project in subscription.Filter.Projects)
                    _byProject[project] = _byProject.TryGetValue(project, out var subs) ? subs.Add(subscription) : [subscription];
            _count++;
            return _head;
        }
    }

    public void Unsubscribe(Subscription subscription)
    {
        lock (_gate)
        {
            if (subscription.Filter.Projects is null)
            {
                var before = _allProjects.Length;
                _allProjects = _allProjects.Remove(subscription);
                if (_allProjects.Length != before) _count--;
                return;
            }
            var removed = false;
            foreach (var project in subscription.Filter.Projects)
            {
                if (!_byProject.TryGetValue(project, out var subs)) continue;
                var after = subs.Remove(subscription);
                removed |= after.Length != subs.Length;
                if (after.IsEmpty) _byProject.Remove(project); else _byProject[project] = after;
            }
            if (removed) _count--;
        }
        subscription.Complete();
    }

    public LogPosition Rearm(Subscription subscription)
    {
        lock (_gate)
        {
            subscription.Rearm();
            return _head;
        }
    }

    // Compiled optimized at its first call: it runs on the ticker's thread (the hand-off), and
    // with ~1,000 subscribers of a project its tier-0 loop was replaced on stack (OSR) within the
    // first ten events, compiled on that thread while every event waited (see Ticker.Tick).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Publish(LogEvent e)
    {
        ImmutableArray<Subscription> project, all;
        lock (_gate)
        {
            _head = e.Position;
            project = _byProject.TryGetValue(e.ProjectId, out var subs) ? subs : [];
            all = _allProjects;
        }
        foreach (var s in project) if (s.Offer(e)) _lagged++;
        foreach (var s in all) if (s.Offer(e)) _lagged++;
    }
}
