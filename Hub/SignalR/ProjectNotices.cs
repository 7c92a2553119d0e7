using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>
/// Sends a <see cref="ProjectNotice"/> to every connection that currently streams its project
/// (the group <c>project:{id}</c> that <see cref="ProjectGroupTracker"/> maintains).
/// </summary>
public sealed class ProjectNotices(IHubContext<EventsHub, IEventHubClient> hub)
{
    public Task SendAsync(ProjectNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.ProjectId);
        // The typed client proxy takes no token; WaitAsync bounds the caller's wait without
        // tearing a half-written message (SignalR finishes or drops each send itself).
        return hub.Clients.Group(ProjectGroupTracker.GroupName(notice.ProjectId)).ProjectNotice(notice)
            .WaitAsync(cancellationToken);
    }
}
