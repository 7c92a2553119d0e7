using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>What changed the live state (<see cref="LiveStateChange.Kind"/>).</summary>
public enum LiveStateChangeKind
{
    /// <summary>The state was loaded from the hub (the first time).</summary>
    Loaded,

    /// <summary>
    /// The state was loaded again after the hub reset the stream (<see cref="LiveStateChange.Reset"/>):
    /// every entity may have changed; redraw everything.
    /// </summary>
    Reloaded,

    /// <summary>An event replaced (or created) one entity's latest event.</summary>
    Applied,

    /// <summary>An event of a type without a key arrived: the offset moved, no entity changed.</summary>
    Unkeyed,

    /// <summary>
    /// An event older (by seq, an entity's version) than the one its entity holds arrived: the
    /// offset moved, no entity changed. Two transactions that change one entity and commit in one
    /// tick reach the stream in transaction-id order, which need not be their commit order.
    /// </summary>
    Superseded,
}

/// <summary>One change of an <see cref="EventHubLiveState"/>, with the state after it.</summary>
public sealed class LiveStateChange
{
    internal LiveStateChange(LiveStateChangeKind kind, LiveStateSnapshot state, ChangeEvent? changeEvent = null,
        LiveEntityId? entity = null, ChangeEvent? previous = null, StreamReset? reset = null)
    {
        Kind = kind;
        State = state;
        Event = changeEvent;
        Entity = entity;
        Previous = previous;
        Reset = reset;
    }

    /// <summary>What happened.</summary>
    public LiveStateChangeKind Kind { get; }

    /// <summary>The state after the change (consistent; later changes do not alter it).</summary>
    public LiveStateSnapshot State { get; }

    /// <summary>The streamed event (typed where the client knows its type) for <see cref="LiveStateChangeKind.Applied"/>, <see cref="LiveStateChangeKind.Unkeyed"/> and <see cref="LiveStateChangeKind.Superseded"/>; else null.</summary>
    public ChangeEvent? Event { get; }

    /// <summary>The entity the event landed on (<see cref="LiveStateChangeKind.Applied"/>) or was meant for (<see cref="LiveStateChangeKind.Superseded"/>); else null.</summary>
    public LiveEntityId? Entity { get; }

    /// <summary>
    /// For <see cref="LiveStateChangeKind.Applied"/>: the entity's event before this one, or null when the entity is new.
    /// For <see cref="LiveStateChangeKind.Superseded"/>: the newer event the entity keeps.
    /// </summary>
    public ChangeEvent? Previous { get; }

    /// <summary>For <see cref="LiveStateChangeKind.Reloaded"/>: the reset that made the live state load the state again.</summary>
    public StreamReset? Reset { get; }

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        LiveStateChangeKind.Applied => $"applied {Event?.Type} to {Entity} at {State.Offset}",
        LiveStateChangeKind.Unkeyed => $"unkeyed {Event?.Type} at {State.Offset}",
        LiveStateChangeKind.Superseded => $"superseded {Event?.Type} for {Entity} at {State.Offset}",
        LiveStateChangeKind.Reloaded => $"reloaded ({Reset?.Reason}) at {State.Offset}",
        _ => $"loaded at {State.Offset}",
    };
}
