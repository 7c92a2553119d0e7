using EventHub.Contracts;
using EventHub.Projects;
using EventHub.Sse;
using EventHub.State;

namespace EventHub.Auth;

/// <summary>
/// The paths that read the log or the state built from it: the SSE stream and its head offset,
/// the live state, the project list, and the SignalR hub (negotiate and every transport). One list for every rule
/// that guards data: the cross-site origin check (<see cref="CrossSiteGuard"/>), token mode's
/// 401 before the endpoint, and where <c>?access_token=</c> is accepted (<see cref="AuthSetup"/>).
/// A new endpoint that reads projects' data belongs here.
/// </summary>
public static class DataPaths
{
    public static bool Contains(PathString path) =>
        path.StartsWithSegments(SseEndpoint.Path) ||
        path.StartsWithSegments(StateEndpoint.Path) ||
        path.StartsWithSegments(ProjectsEndpoint.Path) ||
        path.StartsWithSegments(EventHubPaths.Events);
}
