using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>Registers <see cref="ServerErrorHubFilter"/> on <see cref="EventsHub"/>.</summary>
public static class ServerErrorHubFilterSetup
{
    /// <summary>The logging category of SignalR's hub dispatcher.</summary>
    public const string DispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    /// <summary>The shortest category that, named in configuration, counts as naming the dispatcher's.</summary>
    private const string SignalRCategory = "Microsoft.AspNetCore.SignalR";

    public static IServiceCollection AddEventsHubErrorFilter(this IServiceCollection services)
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
        // category or SignalR's (Logging:LogLevel:<category>) has it back.
        services.PostConfigure<LoggerFilterOptions>(SilenceDispatcher);
        return services;
    }

    /// <summary>
    /// Adds a rule that drops the dispatcher's entries, unless configuration names its category
    /// (or SignalR's), and one for each provider that has rules of its own and does not name it:
    /// a provider's rules win over every rule without a provider, so
    /// <c>Logging:Console:LogLevel:Default</c> alone had the dispatcher's Errors back on the
    /// console. Post-configuration: the rules from configuration are in by then.
    /// </summary>
    internal static void SilenceDispatcher(LoggerFilterOptions options)
    {
        var rules = options.Rules.ToList();
        static bool Names(LoggerFilterRule rule) => rule.CategoryName is { } category && category.Length >= SignalRCategory.Length
            && DispatcherCategory.StartsWith(category, StringComparison.OrdinalIgnoreCase);
        if (rules.Any(r => r.ProviderName is null && Names(r))) return; // named for every provider
        foreach (var provider in rules.Select(r => r.ProviderName).Prepend(null).Distinct())
            if (!rules.Any(r => r.ProviderName == provider && Names(r)))
                options.Rules.Add(new LoggerFilterRule(provider, DispatcherCategory, LogLevel.None, null));
    }
}
