using System.Text.Json;
using EventHub.Streaming;

namespace EventHub.Auth;

/// <summary>
/// The projects a principal may read: every project, a fixed set, or nothing because the token's
/// projects claim cannot be used (<see cref="Problem"/>).
/// </summary>
public sealed class ProjectScope
{
    public const string Wildcard = "*";

    public static ProjectScope All { get; } = new(null, null);
    public static ProjectScope None { get; } = new(new HashSet<string>(StringComparer.Ordinal), null);

    private ProjectScope(IReadOnlySet<string>? projects, string? problem)
    {
        Projects = projects;
        Problem = problem;
    }

    /// <summary>The allowed projects, or null for every project (or for an unusable claim: see <see cref="Problem"/>).</summary>
    public IReadOnlySet<string>? Projects { get; }

    /// <summary>Why the claim cannot be used, or null. A scope with a problem allows nothing.</summary>
    public string? Problem { get; }

    public bool AllowsAll => Projects is null && Problem is null;

    public bool Allows(string project) => Problem is null && (Projects is null || Projects.Contains(project));

    /// <summary>
    /// Reads the projects claim as the token's JSON has it (null: no such claim, which allows nothing).
    /// </summary>
    /// <remarks>
    /// A JSON array is taken verbatim, one id per element, never split: an element <c>"a,b"</c>
    /// is not the projects a and b (an issuer that writes one id per element cannot be made to
    /// grant two by an id that contains a separator). One string may list ids separated by
    /// spaces or commas. <c>*</c> grants every project only as the whole claim (<c>["*"]</c> or
    /// <c>"*"</c>): next to other ids it is a mistake, not a wildcard. Any element that is not a
    /// project id (<see cref="ProjectIds"/>) makes the whole claim unusable rather than granting
    /// the rest of it, so a token is honoured exactly as written or not at all.
    /// </remarks>
    public static ProjectScope FromClaim(JsonElement? claim, int maxIdLength)
    {
        if (claim is not { } value) return None;
        List<string> ids;
        switch (value.ValueKind)
        {
            case JsonValueKind.Array:
                ids = new List<string>(value.GetArrayLength());
                foreach (var element in value.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.String)
                        return Invalid($"element {ids.Count + 1} is {Describe(element)}, not a string");
                    ids.Add(element.GetString()!);
                }
                break;
            case JsonValueKind.String:
                ids = value.GetString()!.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries).ToList();
                break;
            default:
                return Invalid($"it is {Describe(value)}, not an array of project ids or one string of them");
        }

        if (ids is [Wildcard]) return All;
        var projects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (id == Wildcard)
                return Invalid($"'{Wildcard}' stands next to other ids; it means every project only as the whole claim");
            if (!ProjectIds.IsValid(id, maxIdLength))
                return Invalid($"'{Printable(id)}' is not a project id ({ProjectIds.Rule(maxIdLength)})");
            projects.Add(id);
        }
        return new ProjectScope(projects, null);
    }

    private static ProjectScope Invalid(string problem) => new(null, problem);

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "a " + e.ValueKind.ToString().ToLowerInvariant(),
    };

    // The id is the token's content: keep the message one short, printable line.
    private static string Printable(string s)
    {
        var clean = new string(s.Take(40).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return s.Length > 40 ? clean + "…" : clean;
    }
}
