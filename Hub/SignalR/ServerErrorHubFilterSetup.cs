using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>Registers <see cref="ServerErrorHubFilter"/> on <see cref="EventsHub"/>, and silences the SignalR logs it makes redundant.</summary>
public static class ServerErrorHubFilterSetup
{
    /// <summary>The logging category of SignalR's hub dispatcher.</summary>
    public const string DispatcherCategory = "Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher";

    /// <summary>The logging category of SignalR's connection handler (it runs OnConnectedAsync and OnDisconnectedAsync).</summary>
    public const string ConnectionHandlerCategory = "Microsoft.AspNetCore.SignalR.HubConnectionHandler";

    /// <summary>The categories silenced by default: every Error they log is a HubException the hub answered with, or a failure the filter logs.</summary>
    public static IReadOnlyList<string> SilencedCategories { get; } = [DispatcherCategory, ConnectionHandlerCategory];

    /// <summary>The shortest category that, named in configuration, counts as naming one of them.</summary>
    private const string SignalRCategory = "Microsoft.AspNetCore.SignalR";

    public static IServiceCollection AddEventsHubErrorFilter(this IServiceCollection services)
    {
        services.AddSingleton<ServerErrorHubFilter>();
        // After AddSignalR's own setup, which copies the global options into the hub's.
        services.Configure<HubOptions<EventsHub>>(o => o.AddFilter<ServerErrorHubFilter>());
        // SignalR's dispatcher logs every exception a hub method or its stream ends with as an
        // Error with its stack, the hub's HubExceptions as well: each client's refused request,
        // and the "server ended this stream" of every SignalR stream at each stop (1,000 streams,
        // 1,000 errors a deploy). Its connection handler does the same for OnConnectedAsync, whose
        // HubException is how a connection limit closes a connection with a reason its client
        // reads: one Error a refused connection, each retry of a client over its limit. The filter
        // logs every exception that is not a HubException itself (and OnDisconnectedAsync's), so
        // their Errors (the dispatcher's FailedInvokingHubMethod and FailedStreaming, the handler's
        // ErrorDispatchingHubEvent) tell nothing more; their other messages are Debug and Trace.
        // Configuration that names a category or SignalR's (Logging:LogLevel:<category>) has it back.
        services.PostConfigure<LoggerFilterOptions>(o =>
        {
            foreach (var category in SilencedCategories) Silence(o, category);
        });
        return services;
    }

    /// <summary>
    /// Adds a rule that drops <paramref name="category"/>'s entries, unless configuration names it
    /// (or SignalR's), and one for each provider that has rules of its own and does not name it:
    /// a provider's rules win over every rule without a provider, so
    /// <c>Logging:Console:LogLevel:Default</c> alone had the dispatcher's Errors back on the
    /// console. Post-configuration: the rules from configuration are in by then.
    /// </summary>
    internal static void Silence(LoggerFilterOptions options, string category)
    {
        var rules = options.Rules.ToList();
        bool Names(LoggerFilterRule rule) => rule.CategoryName is { } named && named.Length >= SignalRCategory.Length
            && category.StartsWith(named, StringComparison.OrdinalIgnoreCase);
        if (rules.Any(r => r.ProviderName is null && Names(r))) return; // named for every provider
        foreach (var provider in rules.Select(r => r.ProviderName).Prepend(null).Distinct())
            if (!rules.Any(r => r.ProviderName == provider && Names(r)))
                options.Rules.Add(new LoggerFilterRule(provider, category, LogLevel.None, null));
    }
}
