namespace EventHub.Log;

/// <summary>
/// Which events a subscriber wants: a set of projects (null: all) and a set of types, exact
/// or by prefix (<c>pr_*</c>; null: all). Immutable; matching costs no allocation.
/// </summary>
public sealed class EventFilter
{
    public static EventFilter All { get; } = new(null, null);

    public EventFilter(IReadOnlyCollection<string>? projects, IReadOnlyCollection<string>? types)
    {
        Projects = projects is { Count: > 0 } ? projects.Distinct(StringComparer.Ordinal).ToArray() : null;
        if (types is { Count: > 0 })
        {
            ExactTypes = types.Where(t => !t.EndsWith('*')).Distinct(StringComparer.Ordinal).ToArray();
            TypePrefixes = types.Where(t => t.EndsWith('*')).Select(t => t[..^1]).Distinct(StringComparer.Ordinal).ToArray();
            _exact = new HashSet<string>(ExactTypes, StringComparer.Ordinal);
        }
    }

    private readonly HashSet<string>? _exact;

    /// <summary>Projects to deliver, or null for every project.</summary>
    public string[]? Projects { get; }
    /// <summary>Exact event types, or null when no type filter is set.</summary>
    public string[]? ExactTypes { get; }
    /// <summary>Type prefixes (from <c>prefix*</c>), or null when no type filter is set.</summary>
    public string[]? TypePrefixes { get; }

    public bool HasTypeFilter => _exact is not null;

    public bool MatchesType(string type)
    {
        if (_exact is null) return true;
        if (_exact.Contains(type)) return true;
        foreach (var prefix in TypePrefixes!)
            if (type.StartsWith(prefix, StringComparison.Ordinal)) return true;
        return false;
    }

    public bool MatchesProject(string project) => Projects is null || Array.IndexOf(Projects, project) >= 0;

    public bool Matches(LogEvent e) => MatchesProject(e.ProjectId) && MatchesType(e.Type);
}
