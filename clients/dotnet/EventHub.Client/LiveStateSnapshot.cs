using System.Collections.Immutable;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>
/// The live state at one offset: the latest event of every entity (sessions, pull requests, checks,
/// review threads, and kinds the hub's configuration adds). Immutable: an
/// <see cref="EventHubLiveState"/> publishes a new snapshot for every change, so a snapshot read on
/// any thread is consistent (every entity as of <see cref="Offset"/>) and stays so.
/// </summary>
/// <remarks>
/// Each entity holds its latest event, typed where the client knows the type
/// (<see cref="SessionCreated"/>, <see cref="PrUpdated"/>, …; a configured type is a plain
/// <see cref="ChangeEvent"/>). Latest wins, whatever its type: a pull request whose latest event is
/// <c>pr_session_changed</c> holds a <see cref="PrSessionChanged"/>, as in the hub's state.
/// </remarks>
public sealed class LiveStateSnapshot
{
    private static readonly ImmutableDictionary<LiveEntityId, ChangeEvent> NoEntities = ImmutableDictionary<LiveEntityId, ChangeEvent>.Empty;

    /// <summary>Before the first load: no offset, no entities.</summary>
    internal static LiveStateSnapshot Empty { get; } = new(null, NoEntities,
        ImmutableDictionary<string, ImmutableDictionary<LiveEntityId, ChangeEvent>>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableSortedSet<string>.Empty.WithComparer(StringComparer.Ordinal));

    private readonly ImmutableDictionary<LiveEntityId, ChangeEvent> _entities;
    private readonly ImmutableDictionary<string, ImmutableDictionary<LiveEntityId, ChangeEvent>> _byKind;
    private readonly ImmutableSortedSet<string> _unkeyed;
    private IReadOnlyList<SessionEvent>? _sessions;
    private IReadOnlyList<ChangeEvent>? _prs;
    private IReadOnlyList<PrCheckRecorded>? _checks;
    private IReadOnlyList<TypedChangeEvent>? _threads;

    private LiveStateSnapshot(string? offset, ImmutableDictionary<LiveEntityId, ChangeEvent> entities,
        ImmutableDictionary<string, ImmutableDictionary<LiveEntityId, ChangeEvent>> byKind, ImmutableSortedSet<string> unkeyed)
    {
        Offset = offset;
        _entities = entities;
        _byKind = byKind;
        _unkeyed = unkeyed;
    }

    /// <summary>The offset this state is exact at (the last event applied, or the loaded state's); null before the first load.</summary>
    public string? Offset { get; }

    /// <summary>Whether a state was loaded (false only before the first load).</summary>
    public bool IsLoaded => Offset is not null;

    /// <summary>How many entities, of every kind.</summary>
    public int Count => _entities.Count;

    /// <summary>Every entity and its latest event.</summary>
    public IReadOnlyDictionary<LiveEntityId, ChangeEvent> Entities => _entities;

    /// <summary>
    /// The event types in the selection that name no entity (the hub has no key for them): left out
    /// of the state. From the loaded state, plus those of events streamed since.
    /// </summary>
    public IReadOnlyCollection<string> UnkeyedTypes => _unkeyed;

    /// <summary>The kinds that have at least one entity.</summary>
    public IReadOnlyCollection<string> Kinds => [.. _byKind.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The entities of one kind (a built-in one of <see cref="LiveEntityKinds"/>, or a configured one) and their latest events.</summary>
    /// <param name="kind">The kind, for example <c>tracker</c>.</param>
    public IReadOnlyDictionary<LiveEntityId, ChangeEvent> OfKind(string kind) =>
        _byKind.TryGetValue(kind, out var entities) ? entities : NoEntities;

    /// <summary>The latest event of an entity, or null when the state has none.</summary>
    public ChangeEvent? Find(LiveEntityId id) => _entities.TryGetValue(id, out var e) ? e : null;

    /// <summary>The sessions (latest <see cref="SessionCreated"/> or <see cref="SessionUpdated"/>), by project and id.</summary>
    public IReadOnlyList<SessionEvent> Sessions => LazyInitializer.EnsureInitialized(ref _sessions, () => Typed<SessionEvent>(LiveEntityKinds.Session));

    /// <summary>The pull requests (latest <see cref="PrCreated"/>, <see cref="PrUpdated"/> or <see cref="PrSessionChanged"/>), by project and URL.</summary>
    public IReadOnlyList<ChangeEvent> Prs => LazyInitializer.EnsureInitialized(ref _prs, () => Typed<ChangeEvent>(LiveEntityKinds.Pr));

    /// <summary>The CI checks (latest <see cref="PrCheckRecorded"/>), by project and key.</summary>
    public IReadOnlyList<PrCheckRecorded> Checks => LazyInitializer.EnsureInitialized(ref _checks, () => Typed<PrCheckRecorded>(LiveEntityKinds.Check));

    /// <summary>The review threads (latest <see cref="PrReviewThreadAdded"/> or <see cref="PrReviewThreadResolved"/>), by project and key.</summary>
    public IReadOnlyList<TypedChangeEvent> Threads => LazyInitializer.EnsureInitialized(ref _threads, () => Typed<TypedChangeEvent>(LiveEntityKinds.Thread));

    /// <summary>A session's latest event, or null.</summary>
    public SessionEvent? Session(string projectId, string id) =>
        Find(LiveEntityId.Of(projectId, LiveEntityKinds.Session, id)) as SessionEvent;

    /// <summary>A pull request's latest event (<see cref="PrStateEvent"/> or <see cref="PrSessionChanged"/>), or null.</summary>
    public ChangeEvent? Pr(string projectId, string url) =>
        Find(LiveEntityId.Of(projectId, LiveEntityKinds.Pr, url));

    /// <summary>A check's latest event, or null.</summary>
    public PrCheckRecorded? Check(string projectId, string pr, string name, string commit) =>
        Find(LiveEntityId.Of(projectId, LiveEntityKinds.Check, pr, name, commit)) as PrCheckRecorded;

    /// <summary>A review thread's latest event (<see cref="PrReviewThreadAdded"/> or <see cref="PrReviewThreadResolved"/>), or null.</summary>
    public TypedChangeEvent? Thread(string projectId, string pr, string thread) =>
        Find(LiveEntityId.Of(projectId, LiveEntityKinds.Thread, pr, thread)) as TypedChangeEvent;

    /// <summary>The state loaded from the hub's answer (events typed).</summary>
    internal static LiveStateSnapshot Load(LiveState state)
    {
        var entities = NoEntities.ToBuilder();
        var byKind = new Dictionary<string, ImmutableDictionary<LiveEntityId, ChangeEvent>.Builder>(StringComparer.Ordinal);
        foreach (var entity in state.Entities)
        {
            var id = new LiveEntityId(entity.Event.ProjectId, entity.Kind, entity.Key);
            var typed = entity.Event.ToTyped();
            entities[id] = typed;
            if (!byKind.TryGetValue(entity.Kind, out var kind)) byKind[entity.Kind] = kind = NoEntities.ToBuilder();
            kind[id] = typed;
        }
        return new LiveStateSnapshot(state.Offset, entities.ToImmutable(),
            Empty._byKind.AddRange(byKind.Select(k => KeyValuePair.Create(k.Key, k.Value.ToImmutable()))),
            Empty._unkeyed.Union(state.UnkeyedTypes));
    }

    /// <summary>This state with <paramref name="latest"/> as the entity's latest event, at its offset.</summary>
    internal LiveStateSnapshot Apply(LiveEntityId id, ChangeEvent latest)
    {
        var kind = _byKind.TryGetValue(id.Kind, out var existing) ? existing : NoEntities;
        return new LiveStateSnapshot(latest.Offset, _entities.SetItem(id, latest), _byKind.SetItem(id.Kind, kind.SetItem(id, latest)), _unkeyed);
    }

    /// <summary>The same entities, at the offset of an event that changed none (it was older, by seq, than its entity's).</summary>
    internal LiveStateSnapshot Pass(ChangeEvent superseded) => new(superseded.Offset, _entities, _byKind, _unkeyed);

    /// <summary>This state at the offset of <paramref name="unkeyed"/>, an event of a type without a key (no entity changes).</summary>
    internal LiveStateSnapshot Skip(ChangeEvent unkeyed) =>
        new(unkeyed.Offset, _entities, _byKind, _unkeyed.Add(unkeyed.Type));

    private List<T> Typed<T>(string kind) where T : ChangeEvent =>
    [
        .. OfKind(kind).OrderBy(e => e.Key.ProjectId, StringComparer.Ordinal).ThenBy(e => e.Key.Key, StringComparer.Ordinal)
            .Select(e => e.Value).OfType<T>(),
    ];
}
