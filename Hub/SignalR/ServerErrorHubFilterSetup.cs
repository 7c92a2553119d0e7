using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>Registers <see cref="ServerErrorHubFilter"/> on <see cref="EventsHub"/>.</summary>
public static class ServerErrorHubFilterSetup
{
    /// <summary>The logging category of SignalR's hub dispatcher.</summary>
    public const string DispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    public static IServiceCollection AddEventsHubErrorFilter(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<ServerErrorHubFilter>();
        // After AddSignalR's own setup, which copies the global options into the hub's.
        services.Configure<HubOptions<EventsHub>>(o => o.AddFilter<ServerErrorHubFilter>());
        // SignalR's dispatcher logs every exception a hub method or its stream ends with as an
        // Error with its stack, the hub's HubExceptions as well: each client's refused request,
        // and the "server ended this stream" of every SignalR stream at each stop (1,000 streams,
        // 1,000 errors a deploy). The filter logs each exception that is not a HubException
        // itself, so the dispatcher's two Errors (FailedInvokingHubMethod, FailedStreaming) tell
        // nothing more; its other messages are Debug and Trace. Configuration that names the
        // category (Logging:LogLevel:<DispatcherCategory>) has it back.
        if (configuration[$"Logging:LogLevel:{DispatcherCategory}"] is null)
            services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(null, DispatcherCategory, LogLevel.None, null)));
        return services;
    }
}
