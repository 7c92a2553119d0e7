using Npgsql;

namespace EventHub.Log;

/// <summary>
/// <see cref="IChangeNotifier"/> over PostgreSQL LISTEN/NOTIFY: one dedicated connection per hub
/// process LISTENs on <c>eventhub_tick</c> (the ticker NOTIFYs each new tick; the payload is its id),
/// on <c>eventhub_change_log</c> (the writers' opt-in wake-up for the ticker, docs/deploy.md),
/// and on <c>eventhub_project_notice</c>, where any node publishes a project notice for the group
/// members of every node (<see cref="ProjectNoticeReceived"/>; see <c>SignalR/ProjectNotices</c>).
/// </summary>
/// <remarks>
/// A broken connection is logged, disposed and re-opened with backoff. Notifications sent while
/// it was down are lost, so every (re)connect raises a wake-up: the tail then reads the log and
/// catches whatever the lost notifications were about.
/// </remarks>
public sealed partial class PostgresChangeNotifier(
    NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger<PostgresChangeNotifier> logger)
    : BackgroundService, IChangeNotifier
{
    public const string Channel = "eventhub_tick";

    /// <summary>The writers' opt-in wake-up of the ticker (no trigger sends it by default).</summary>
    public const string WriterChannel = "eventhub_change_log";

    /// <summary>The channel of project notices between nodes; the payload is the notice as JSON.</summary>
    public const string NoticeChannel = "eventhub_project_notice";

    /// <summary>
    /// Raised on the LISTEN connection's thread with the payload of each notification on
    /// <see cref="NoticeChannel"/> (from any node, this one included). Handlers must not block.
    /// </summary>
    public event Action<string>? ProjectNoticeReceived;

    private readonly WakeupSignal _wakeup = new(timeProvider);

    /// <summary>
    /// The ticker's pause: ended early by a writer's opt-in NOTIFY on <see cref="WriterChannel"/>,
    /// or by this node asking the ticker for a round now.
    /// </summary>
    public WakeupSignal TickerWakeup { get; } = new(timeProvider);
    private volatile bool _listening;

    /// <summary>Whether the LISTEN connection is up (for readiness).</summary>
    public bool IsListening => _listening;

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _wakeup.WaitAsync(timeout, cancellationToken);

    public long LatestTick => _wakeup.LatestTick;

    /// <summary>Announces a tick made by this node's ticker to this node's tail, without the round trip of its NOTIFY.</summary>
    public void SignalTick(long tick) => _wakeup.Signal(tick);

    private void Signal() => _wakeup.Signal();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => OnNotification(e.Channel, e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {WriterChannel}; LISTEN {NoticeChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                _listening = true;
                LogListening(Channel);
                backoff = TimeSpan.FromMilliseconds(100);
                Signal();
                while (true)
                    await connection.WaitAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                _listening = false;
                LogConnectionLost(e, backoff.TotalMilliseconds);
                Signal();
                try { await Task.Delay(backoff, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
        _listening = false;
    }

    private void OnNotification(string channel, string payload)
    {
        if (channel == Channel)
        {
            // The payload is only a hint (the tick table is the truth); a bad one still wakes.
            _wakeup.Signal(long.TryParse(payload, out var tick) ? tick : 0);
            return;
        }
        if (channel == WriterChannel)
        {
            TickerWakeup.Signal();
            return;
        }
        try
        {
            ProjectNoticeReceived?.Invoke(payload);
        }
        catch (Exception e)
        {
            LogNoticeHandlerFailed(e);
        }
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "A project notice handler failed")]
    private partial void LogNoticeHandlerFailed(Exception exception);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Listening for change_log notifications on {Channel}")]
    private partial void LogListening(string channel);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "The LISTEN connection failed; retrying in {DelayMs} ms")]
    private partial void LogConnectionLost(Exception exception, double delayMs);
}
