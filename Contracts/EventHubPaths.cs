namespace EventHub.Contracts;

/// <summary>Where the hub's endpoints live, relative to the server's base address.</summary>
public static class EventHubPaths
{
    /// <summary>The SignalR hub that streams change events.</summary>
    public const string Events = "/hubs/events";
}
