using EventHub.Client.Internal;

namespace EventHub.Client;

/// <summary>
/// Which entity of the live state: its project, its kind (<see cref="LiveEntityKinds"/> or a
/// configured one) and its key, the compact JSON array of its key fields' values exactly as the hub
/// writes it (<c>["ao-1"]</c>; for a check <c>["&lt;pr&gt;","&lt;name&gt;","&lt;commit&gt;"]</c>).
/// </summary>
/// <param name="ProjectId">The project the entity's events belong to.</param>
/// <param name="Kind">The entity's kind.</param>
/// <param name="Key">The entity's key (JSON array text).</param>
public readonly record struct LiveEntityId(string ProjectId, string Kind, string Key)
{
    /// <summary>
    /// The id of the entity whose key fields hold <paramref name="values"/> (strings; in the order of
    /// the kind's key fields), for example <c>LiveEntityId.Of("ao", LiveEntityKinds.Check, pr, "build", commit)</c>.
    /// </summary>
    /// <param name="projectId">The entity's project.</param>
    /// <param name="kind">The entity's kind.</param>
    /// <param name="values">The key fields' values, in order.</param>
    public static LiveEntityId Of(string projectId, string kind, params string?[] values)
    {
        ArgumentNullException.ThrowIfNull(projectId);
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(values);
        return new LiveEntityId(projectId, kind, EntityKeyer.KeyOf(values));
    }

    /// <inheritdoc />
    public override string ToString() => $"{ProjectId}/{Kind} {Key}";
}
