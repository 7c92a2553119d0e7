using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>Registers <see cref="ServerErrorHubFilter"/> on <see cref="EventsHub"/>.</summary>
public static class ServerErrorHubFilterSetup
{
    public static IServiceCollection AddEventsHubErrorFilter(this IServiceCollection services)
    {
        services.AddSingleton<ServerErrorHubFilter>();
        // After AddSignalR's own setup, which copies the global options into the hub's.
        services.Configure<HubOptions<EventsHub>>(o => o.AddFilter<ServerErrorHubFilter>());
        return services;
    }
}
