using System.Collections.Concurrent;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.SignalR;

/// <summary>
/// Keeps each connection in the SignalR group <c>project:{id}</c> of every project it streams:
/// a per-connection count of open streams per project. The first stream of a project adds the
/// connection to the group, the end of the last one removes it; a dropped connection is forgotten
/// (<see cref="ForgetConnection"/>; SignalR itself removes it from its groups).
/// </summary>
/// <remarks>
/// Streams of all projects join no group: a project notice concerns one project, and a
/// connection in several groups would otherwise receive a notice once per group.
/// </remarks>
public sealed class ProjectGroupTracker(IHubContext<EventsHub, IEventHubClient> hub)
{
    private readonly ConcurrentDictionary<string, ConnectionGroups> _connections = new(StringComparer.Ordinal);

    /// <summary>The SignalR group of a project.</summary>
    public static string GroupName(string projectId) => "project:" + projectId;

    /// <summary>Connections with at least one project stream open.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Whether the connection streams the project (and so is in its group).</summary>
    public bool IsMember(string connectionId, string projectId) => StreamCount(connectionId, projectId) > 0;

    /// <summary>How many of the connection's open streams include the project.</summary>
    public int StreamCount(string connectionId, string projectId)
    {
        if (!_connections.TryGetValue(connectionId, out var groups)) return 0;
        lock (groups.Counts) return groups.Counts.GetValueOrDefault(projectId);
    }

    /// <summary>
    /// Counts one more stream of each project for the connection and joins the groups it was not in.
    /// Throws <see cref="OperationCanceledException"/> when the connection is already gone.
    /// </summary>
    public async Task JoinAsync(string connectionId, IReadOnlyCollection<string> projects, CancellationToken connectionAborted)
    {
        if (projects.Count == 0) return;
        while (true)
        {
            var groups = _connections.GetOrAdd(connectionId, static _ => new ConnectionGroups());
            await groups.Gate.WaitAsync(connectionAborted);
            try
            {
                // Race: ForgetConnection removed this entry between GetOrAdd and the gate. Take a fresh one.
                if (groups.Forgotten) continue;
                // Race: the connection dropped before this stream started. OnDisconnected runs only
                // after the abort, so checking under the gate means a count taken here is either
                // forgotten by it or never taken.
                connectionAborted.ThrowIfCancellationRequested();
                var counted = new List<string>(projects.Count);
                try
                {
                    foreach (var project in projects)
                    {
                        int count;
                        lock (groups.Counts) count = groups.Counts[project] = groups.Counts.GetValueOrDefault(project) + 1;
                        counted.Add(project);
                        if (count == 1)
                            await hub.Groups.AddToGroupAsync(connectionId, GroupName(project), connectionAborted);
                    }
                }
                catch
                {
                    // All or nothing: the caller does not open the stream, so undo its counts.
                    lock (groups.Counts)
                        foreach (var project in counted)
                            if (groups.Counts.TryGetValue(project, out var c) && c > 1) groups.Counts[project] = c - 1;
                            else groups.Counts.Remove(project);
                    throw;
                }
                return;
            }
            finally
            {
                groups.Gate.Release();
            }
        }
    }

    /// <summary>
    /// Counts one stream of each project less and leaves the groups whose last stream ended.
    /// Takes no token: leaving must finish even while the connection is being torn down.
    /// </summary>
    public async Task LeaveAsync(string connectionId, IReadOnlyCollection<string> projects)
    {
        if (projects.Count == 0 || !_connections.TryGetValue(connectionId, out var groups)) return;
        // The gate serialises group changes of one connection. Without it a stream ending on X
        // (count 1 -> 0, remove) and one starting on X (0 -> 1, add) could reach the group manager
        // in the opposite order and leave a streaming connection outside the group.
        await groups.Gate.WaitAsync(CancellationToken.None);
        try
        {
            if (groups.Forgotten) return;
            foreach (var project in projects)
            {
                int count;
                lock (groups.Counts)
                {
                    count = groups.Counts.GetValueOrDefault(project) - 1;
                    if (count > 0) groups.Counts[project] = count;
                    else groups.Counts.Remove(project);
                }
                if (count == 0)
                    await hub.Groups.RemoveFromGroupAsync(connectionId, GroupName(project), CancellationToken.None);
            }
            if (groups.IsEmpty)
            {
                // Drop the entry of a connection that streams no project any more, so that a
                // connection that streams nothing costs nothing here. A JoinAsync waiting on the
                // gate sees Forgotten and takes a fresh entry.
                groups.Forgotten = true;
                _connections.TryRemove(KeyValuePair.Create(connectionId, groups));
            }
        }
        finally
        {
            groups.Gate.Release();
        }
    }

    /// <summary>Forgets a connection that has gone (SignalR has already dropped it from its groups).</summary>
    public void ForgetConnection(string connectionId)
    {
        if (!_connections.TryRemove(connectionId, out var groups)) return;
        // No gate: a JoinAsync holding it sees the aborted token or, next time, Forgotten; a
        // LeaveAsync finds the entry gone. Group calls for a gone connection are harmless no-ops.
        groups.Forgotten = true;
    }

    private sealed class ConnectionGroups
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public readonly Dictionary<string, int> Counts = new(StringComparer.Ordinal);
        public volatile bool Forgotten;

        public bool IsEmpty
        {
            get { lock (Counts) return Counts.Count == 0; }
        }
    }
}
