using EventHub.Errors;
using EventHub.Sse;
using EventHub.Streaming.Policy;

namespace EventHub.Projects;

/// <summary>
/// <c>GET /api/v1/projects</c>: <c>{"projects":[{"id","displayName","archived"}]}</c>, the registered
/// projects the caller may read (authorized as a stream of every project it may read), in id order.
/// </summary>
public static class ProjectsEndpoint
{
    public const string Path = "/api/v1/projects";

    public static IEndpointConventionBuilder MapProjects(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapGet(Path, async (StreamPolicy policy, HttpContext context) =>
        {
            var (projects, refusal) = await policy.GetProjectsAsync(SseEndpoint.Caller(context), context.RequestAborted);
            if (refusal is not null) return ApiError.Create(refusal.StatusCode, refusal.Code, refusal.Message);
            context.Response.Headers.CacheControl = "no-store";
            return Results.Json(new { projects });
        });
}
