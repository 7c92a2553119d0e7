namespace EventHub.Contracts;

/// <summary>Names of the methods the hub invokes on clients (<see cref="IEventHubClient"/>).</summary>
public static class EventHubClientMethods
{
    /// <summary><see cref="IEventHubClient.ProjectNotice"/>.</summary>
    public const string ProjectNotice = nameof(IEventHubClient.ProjectNotice);
}
