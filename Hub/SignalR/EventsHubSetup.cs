using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using EventHub.SignalR.Internal;
using MessagePack;
using MessagePack.Resolvers;

namespace EventHub.SignalR;

/// <summary>Registration of the SignalR hub: services, both protocols, and the route.</summary>
public static class EventsHubSetup
{
    public static IServiceCollection AddEventsHub(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EventsHubOptions>().Bind(configuration.GetSection(EventsHubOptions.Section));
        services.AddSingleton<ChangeEventCache>();
        services.AddSingleton<StreamQueueTotals>();
        services.AddSingleton<ProjectGroupTracker>();
        services.AddSingleton<ConnectionOwners>();
        services.AddSingleton<ProjectNotices>();
        services.AddHostedService(sp => sp.GetRequiredService<ProjectNotices>()); // relays notices from every node
        services.AddSingleton<SignalRStreamsStopDrain>();
        services.AddHostedService(sp => sp.GetRequiredService<SignalRStreamsStopDrain>()); // streams end with their final item on a graceful stop
        services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new SharedChangeEventJsonConverter()))
            .AddMessagePackProtocol(o => o.SerializerOptions = MessagePackOptions)
            // Detailed errors, so that a call SignalR cannot bind (no request at all, a request of
            // the wrong shape) tells the client why instead of "an error on the server". Safe here
            // because EventsHub turns every exception of its own into a HubException it wrote.
            .AddHubOptions<EventsHub>(o => o.EnableDetailedErrors = true);
        // A frame of an unknown message type would otherwise wedge its connection (the class says why).
        IgnoredMessageSkippingProtocol.WrapRegistered(services);
        // Keep-alives from configuration (section SignalR), like the SSE endpoint's.
        services.AddOptions<Microsoft.AspNetCore.SignalR.HubOptions<EventsHub>>().Configure<Microsoft.Extensions.Options.IOptions<EventsHubOptions>>((hub, settings) =>
        {
            hub.KeepAliveInterval = settings.Value.KeepAliveInterval;
            hub.ClientTimeoutInterval = settings.Value.ClientTimeoutInterval;
        });
        return services;
    }

    public static IEndpointConventionBuilder MapEventsHub(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapHub<EventsHub>(EventHubPaths.Events);

    /// <summary>The contracts' formatters, plus the raw writer of shared events.</summary>
    internal static MessagePackSerializerOptions MessagePackOptions { get; } = EventHubMessagePack.WithResolver(
        CompositeResolver.Create([SharedChangeEventFormatter.Instance], [EventHubMessagePack.Resolver]));
}
