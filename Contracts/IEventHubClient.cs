namespace EventHub.Contracts;

/// <summary>
/// The methods the hub calls on its clients. Events themselves are not pushed this way: they flow
/// through the stream a client opens with <see cref="EventHubMethods.StreamEvents"/>.
/// </summary>
public interface IEventHubClient
{
    /// <summary>
    /// A notice about a project this connection streams (method name
    /// <see cref="EventHubClientMethods.ProjectNotice"/>).
    /// </summary>
    Task ProjectNotice(ProjectNotice notice);
}
