using EventHub.Storage;
using System.Text;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Log;
using Microsoft.AspNetCore.SignalR;
using Npgsql;

namespace EventHub.SignalR;

/// <summary>
/// Sends a <see cref="ProjectNotice"/> to every connection that currently streams its project
/// (the group <c>project:{id}</c> that <see cref="ProjectGroupTracker"/> maintains), on every node.
/// </summary>
/// <remarks>
/// A notice is published with <c>pg_notify</c> on <see cref="NoticeChannel"/>,
/// which every node's LISTEN connection (the one that wakes the tail) also listens to; each node,
/// this one included, delivers it to its own group members when it arrives. No backplane: the
/// database every node already uses carries it. Delivery is best effort, like NOTIFY itself: a node
/// whose LISTEN connection is down at that moment misses it. While this node's own LISTEN connection
/// is down the notice is delivered to this node's members directly.
/// The JSON payload is limited to <see cref="MaxPayloadBytes"/> (PostgreSQL's limit is 8000 bytes).
/// </remarks>
public sealed partial class ProjectNotices(
    IHubContext<EventsHub, IEventHubClient> hub,
    NpgsqlDataSource dataSource,
    PostgresListener listener,
    ILogger<ProjectNotices> logger) : IHostedService
{
    /// <summary>The channel of project notices between nodes; the payload is the notice as JSON.</summary>
    public const string NoticeChannel = "eventhub_project_notice";

    /// <summary>The largest notice, as UTF-8 JSON, that can be published.</summary>
    public const int MaxPayloadBytes = 7900;

    public async Task SendAsync(ProjectNotice notice, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(notice);
        ArgumentException.ThrowIfNullOrEmpty(notice.ProjectId);
        var payload = JsonSerializer.Serialize(notice);
        var size = Encoding.UTF8.GetByteCount(payload);
        if (size > MaxPayloadBytes)
            throw new ArgumentException(
                $"The notice is {size} bytes as JSON; at most {MaxPayloadBytes} can be sent between nodes. Shorten its message.",
                nameof(notice));

        var listening = listener.IsListening;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection))
        {
            command.Parameters.AddWithValue("channel", NoticeChannel);
            command.Parameters.AddWithValue("payload", payload);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        if (!listening) await DeliverLocallyAsync(notice).WaitAsync(cancellationToken);
    }

    /// <summary>Sends to this node's members of the notice's project group.</summary>
    private Task DeliverLocallyAsync(ProjectNotice notice) =>
        // The typed client proxy takes no token; SignalR finishes or drops each send itself.
        hub.Clients.Group(ProjectGroupTracker.GroupName(notice.ProjectId)).ProjectNotice(notice);

    private void OnNotice(string payload)
    {
        ProjectNotice? notice;
        try
        {
            notice = JsonSerializer.Deserialize<ProjectNotice>(payload);
        }
        catch (JsonException e)
        {
            LogBadNotice(e);
            return;
        }
        if (notice is null || string.IsNullOrEmpty(notice.ProjectId)) return;
        _ = RelayAsync(notice);
    }

    private async Task RelayAsync(ProjectNotice notice)
    {
        try
        {
            await DeliverLocallyAsync(notice);
        }
        catch (Exception e)
        {
            LogRelayFailed(e, notice.ProjectId);
        }
    }

    private volatile bool _started;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _started = true;
        listener.Listen(NoticeChannel, payload => { if (_started) OnNotice(payload); });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _started = false;
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "A project notice from PostgreSQL could not be read")]
    private partial void LogBadNotice(Exception exception);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Warning, Message = "Relaying a project notice for {ProjectId} failed")]
    private partial void LogRelayFailed(Exception exception, string projectId);
}
