using System.Security.Claims;

namespace EventHub.Auth;

/// <summary>The projects a principal may read: every project, or a fixed set.</summary>
public sealed class ProjectScope
{
    public const string Wildcard = "*";

    public static ProjectScope All { get; } = new(null);

    private ProjectScope(IReadOnlySet<string>? projects) => Projects = projects;

    /// <summary>The allowed projects, or null for every project.</summary>
    public IReadOnlySet<string>? Projects { get; }

    public bool AllowsAll => Projects is null;

    public bool Allows(string project) => Projects is null || Projects.Contains(project);

    /// <summary>
    /// Reads the projects claim. Each claim value may hold one id or several separated by spaces
    /// or commas (a JSON array arrives as one claim per element); <c>*</c> anywhere means all.
    /// </summary>
    public static ProjectScope FromClaims(ClaimsPrincipal user, string claimType)
    {
        var projects = new HashSet<string>(StringComparer.Ordinal);
        foreach (var claim in user.FindAll(claimType))
            foreach (var id in claim.Value.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (id == Wildcard) return All;
                projects.Add(id);
            }
        return new ProjectScope(projects);
    }
}
