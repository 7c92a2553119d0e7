using EventHub.Log;
using EventHub.Streaming;

namespace EventHub.State;

/// <summary>
/// The keyed event types of each entity kind, as this node knows them: the built-in keys
/// overridden and extended by <c>State:EntityKeys</c>, read back from <c>eventhub_entity_key</c> by
/// <see cref="EntityKeySync"/> once it has made the table what this node's configuration says.
/// </summary>
/// <remarks>
/// Why a state request selects whole kinds (<see cref="EnsureWholeKinds"/>): the state holds an
/// entity while its latest event is of a selected type, and the stream of the same filter carries
/// only those types. With part of a kind selected (<c>type=pr_updated</c> of the PR kind's
/// pr_created, pr_updated and pr_session_changed) the two cannot agree: after a
/// pr_session_changed a client that loaded the state before it and streams keeps the PR, one that
/// loads the state after it has none. With whole kinds every event of a selected entity is
/// streamed, so the state at one offset plus the stream after it is the state at any later one.
/// Unkeyed types have no entities and are not constrained. Streams are not constrained either.
/// </remarks>
public sealed class EntityKinds
{
    private volatile IReadOnlyDictionary<string, string[]> _typesByKind = new Dictionary<string, string[]>(StringComparer.Ordinal);

    /// <summary>Sets the keyed types (type, kind), as the key table holds them after this node's sync.</summary>
    public void Set(IEnumerable<(string Type, string Kind)> keyedTypes) =>
        _typesByKind = keyedTypes.GroupBy(t => t.Kind, StringComparer.Ordinal).ToDictionary(
            g => g.Key, g => g.Select(t => t.Type).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray(),
            StringComparer.Ordinal);

    /// <summary>The types of each keyed kind, ordered ordinally.</summary>
    public IReadOnlyDictionary<string, string[]> TypesByKind => _typesByKind;

    /// <summary>
    /// Throws a <see cref="StreamRequestException"/> (<c>invalid_type</c>) when the state filter's
    /// types, prefixes expanded over the keyed types, select some but not all types of a kind.
    /// </summary>
    public void EnsureWholeKinds(EventFilter filter)
    {
        if (!filter.HasTypeFilter) return;
        foreach (var (kind, types) in _typesByKind.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            var selected = types.Where(filter.MatchesType).ToArray();
            if (selected.Length == 0 || selected.Length == types.Length) continue;
            var prefix = WholeKindPrefix(types);
            throw new StreamRequestException(StreamErrorCodes.InvalidType,
                $"The state's type filter selects whole kinds: {string.Join(", ", selected)} " +
                $"{(selected.Length == 1 ? "is one" : "are some")} of the {kind} kind's types ({string.Join(", ", types)}); " +
                $"name all of them{(prefix is null ? "" : $", or {prefix}")}. With part of a kind the state holds an entity " +
                "only while its latest event is of a selected type, which the stream of those types cannot follow.");
        }
    }

    /// <summary>
    /// <c>p*</c> for the longest common prefix of <paramref name="types"/> up to an underscore,
    /// when it selects no part of another kind; otherwise null.
    /// </summary>
    private string? WholeKindPrefix(string[] types)
    {
        var common = types[0];
        foreach (var t in types)
        {
            var n = 0;
            while (n < common.Length && n < t.Length && common[n] == t[n]) n++;
            common = common[..n];
        }
        var cut = common.LastIndexOf('_');
        if (cut <= 0) return null;
        common = common[..(cut + 1)];
        foreach (var other in _typesByKind.Values)
        {
            var inPrefix = other.Count(t => t.StartsWith(common, StringComparison.Ordinal));
            if (inPrefix != 0 && inPrefix != other.Length) return null;
        }
        return common + "*";
    }
}
