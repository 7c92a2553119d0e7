namespace EventHub.Errors;

/// <summary>
/// The outermost middleware: an exception no endpoint handled becomes a 500 with the JSON error
/// body <c>{"error":{"code":"internal_error","message":...}}</c> and is logged. Its text (a
/// PostgreSQL error names tables, queries and server state) never reaches the response: not in
/// production, where the host would send an empty 500, and not under Development either, where
/// the developer exception page would print it (this runs inside that page).
/// </summary>
/// <remarks>
/// After the headers are sent (an SSE stream under way) no status can be changed: the exception
/// goes on to Kestrel, which aborts the response, and an EventSource reconnects with its
/// Last-Event-ID. A request the client aborted is not an error and is left alone.
/// </remarks>
public static partial class UnhandledErrorMiddleware
{
    public const string Code = EventHub.Contracts.ErrorCodes.InternalError;
    public const string Message = "The request could not be completed on the server. Try again shortly.";

    public static IApplicationBuilder UseEventHubErrors(this IApplicationBuilder app)
    {
        var logger = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnhandledErrorMiddleware));
        return app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted &&
                                      !(e is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
            {
                LogUnhandled(logger, e, context.Request.Path);
                context.Response.Clear();
                await ApiError.Create(StatusCodes.Status500InternalServerError, Code, Message).ExecuteAsync(context);
            }
        });
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Error, Message = "Unhandled exception on {Path}; the client got internal_error")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, PathString path);
}
