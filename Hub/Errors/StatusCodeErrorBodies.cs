using EventHub.Contracts;

namespace EventHub.Errors;

/// <summary>
/// The JSON error body for the HTTP errors nothing of the hub's own answers: a path no endpoint
/// serves (404 <c>not_found</c>) and a method the path does not take (405 <c>method_not_allowed</c>,
/// routing's answer, which keeps its <c>Allow</c> header). Without it these came back with an empty
/// body, and a client that reads <c>{error:{code,message}}</c> (the TypeScript client's SSE
/// transport) could only guess from the status. ASP.NET Core's status code pages: they run only
/// for a response that has not started and has no body, so no error written by the hub is touched.
/// </summary>
public static class StatusCodeErrorBodies
{
    public static IApplicationBuilder UseStatusCodeErrorBodies(this IApplicationBuilder app) =>
        app.UseStatusCodePages(context =>
        {
            var http = context.HttpContext;
            var path = http.Request.PathBase + http.Request.Path;
            var error = http.Response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ApiError.Create(StatusCodes.Status404NotFound, ErrorCodes.NotFound,
                    $"Nothing is served at {path}. The hub serves GET /api/v1/events, GET /api/v1/events/head, " +
                    "GET /api/v1/state, GET /api/v1/projects and the SignalR hub at /hubs/events."),
                StatusCodes.Status405MethodNotAllowed => ApiError.Create(StatusCodes.Status405MethodNotAllowed, ErrorCodes.MethodNotAllowed,
                    $"{http.Request.Method} is not allowed on {path}" +
                    (http.Response.Headers.Allow.Count > 0 ? $"; it takes {http.Response.Headers.Allow}." : ".")),
                _ => null,
            };
            return error?.ExecuteAsync(http) ?? Task.CompletedTask;
        });
}
