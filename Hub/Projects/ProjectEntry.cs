namespace EventHub.Projects;

/// <summary>One project as <c>GET /api/v1/projects</c> lists it.</summary>
/// <param name="Id">The project id streams and state reads filter on.</param>
/// <param name="DisplayName">The orchestrator's display name, or null.</param>
/// <param name="Archived">Whether the orchestrator archived it (its log is still readable).</param>
public sealed record ProjectEntry(string Id, string? DisplayName, bool Archived);
