using System.Runtime.CompilerServices;
using EventHub.Log;

namespace EventHub.SignalR.Internal;

/// <summary>
/// Maps each <see cref="LogEvent"/> to its one <see cref="SharedChangeEvent"/>, for as long as the
/// event is alive (weakly: the cache never keeps an event that every stream has passed).
/// </summary>
public sealed class ChangeEventCache
{
    private readonly ConditionalWeakTable<LogEvent, SharedChangeEvent> _events = new();

    internal SharedChangeEvent Get(LogEvent e) =>
        _events.GetValue(e, static e => new SharedChangeEvent(e));
}
