using EventHub.Log;
using Microsoft.Extensions.Options;

namespace EventHub.Streaming;

/// <summary>
/// The one reader of the change log per hub process. It reads new final rows in position order
/// and publishes them to the fan-out; every stream's live feed comes from here, so the database
/// sees one tail query per wake-up whatever the number of subscribers.
/// </summary>
/// <remarks>
/// Woken by <see cref="IChangeNotifier"/> right after a commit, and by a poll at
/// <see cref="StreamOptions.PollInterval"/> otherwise. While rows are held back behind an older
/// open transaction it polls with a short, growing delay: the end of a transaction that wrote no
/// event sends no NOTIFY. Database errors are logged and retried with backoff; the cursor is
/// only advanced past rows that were published, so a failure loses nothing.
/// </remarks>
public sealed partial class ChangeLogTail(
    [FromKeyedServices(LogReaders.Tail)] IChangeLogReader reader,
    IChangeNotifier notifier,
    IEventFanout fanout,
    RecentEventsWindow window,
    IOptions<StreamOptions> options,
    TimeProvider timeProvider,
    ILogger<ChangeLogTail> logger) : BackgroundService
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastReadTimestamp;
    private LogPosition _position;
    private long _lastPublishDelayTicks = -1;

    /// <summary>Completes once the tail knows where "now" is and is publishing.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Whether the last read succeeded (for readiness).</summary>
    public bool IsHealthy { get; private set; }

    /// <summary>Time of the last successful read, from <see cref="TimeProvider.GetTimestamp"/>.</summary>
    public long LastReadTimestamp => Interlocked.Read(ref _lastReadTimestamp);

    /// <summary>The position the tail has published up to (for the lag metric).</summary>
    public LogPosition Position { get { lock (_ready) return _position; } }

    /// <summary>How long after its <c>created_at</c> the newest event was published; null before the first.</summary>
    public TimeSpan? LastPublishDelay => Interlocked.Read(ref _lastPublishDelayTicks) is var t and >= 0 ? TimeSpan.FromTicks(t) : null;

    public async Task WaitUntilReadyAsync(CancellationToken cancellationToken) =>
        await _ready.Task.WaitAsync(cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var backoff = TimeSpan.FromMilliseconds(100);
        LogPosition? position = null;
        var heldBackDelay = settings.HeldBackPollDelay;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (position is null)
                {
                    // The cursor is set only once the window is loaded: if the load fails, the
                    // retry must start over here. (Setting it first skipped the start-up on the
                    // retry, so Ready never completed and every stream open waited forever.)
                    var head = await reader.GetHeadAsync(stoppingToken);
                    await InitializeWindowAsync(head, stoppingToken);
                    fanout.Initialize(head);
                    lock (_ready) _position = head;
                    position = head;
                    LogStarted(head.ToString());
                    _ready.TrySetResult();
                }

                var batch = await reader.ReadAsync(position.Value, EventFilter.All, settings.TailBatchSize, stoppingToken);
                foreach (var e in batch.Events)
                {
                    window.Add(e); // before publishing: the window's head is never behind the fan-out's
                    fanout.Publish(e);
                    position = e.Position;
                }
                if (batch.Events.Count > 0)
                {
                    lock (_ready) _position = position.Value;
                    var delay = timeProvider.GetUtcNow() - batch.Events[^1].CreatedAt;
                    Interlocked.Exchange(ref _lastPublishDelayTicks, Math.Max(0, delay.Ticks));
                }
                IsHealthy = true;
                Interlocked.Exchange(ref _lastReadTimestamp, timeProvider.GetTimestamp());
                backoff = TimeSpan.FromMilliseconds(100);

                if (batch.Events.Count >= settings.TailBatchSize) continue;
                if (batch.HeldBack)
                {
                    await notifier.WaitAsync(heldBackDelay, stoppingToken);
                    heldBackDelay = TimeSpan.FromTicks(Math.Min(heldBackDelay.Ticks * 2, settings.PollInterval.Ticks));
                }
                else
                {
                    heldBackDelay = settings.HeldBackPollDelay;
                    await notifier.WaitAsync(settings.PollInterval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                IsHealthy = false;
                LogReadFailed(e, backoff.TotalMilliseconds);
                try { await Task.Delay(backoff, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private async Task InitializeWindowAsync(LogPosition head, CancellationToken cancellationToken)
    {
        // One query at start-up: the window then covers the recent past, and the reconnect
        // storm that follows a restart is served from memory. Reading one row more than the
        // window holds tells where coverage starts: just after that row, or at the log's start.
        var size = options.Value.RecentEventsWindowSize;
        if (size <= 0)
        {
            window.Initialize(head, []);
            return;
        }
        var recent = await reader.ReadLastAsync(head, size + 1, cancellationToken);
        if (recent.Count > size)
        {
            window.Initialize(recent[0].Position, recent.Skip(1).ToList());
            return;
        }
        // The whole log fits, but the log may start after rows retention deleted: covering from
        // the start would serve a pruned offset from memory, with a silent gap instead of a reset.
        // Coverage starts where retention stopped. Read after the load: retention only moves
        // forward, so every row after this position was there when the load read.
        var pruned = (await reader.ReadAsync(head, EventFilter.All, 1, cancellationToken)).PrunedThrough;
        window.Initialize(pruned, recent);
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Tailing change_log from position {Position}")]
    private partial void LogStarted(string position);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Reading change_log failed; retrying in {DelayMs} ms")]
    private partial void LogReadFailed(Exception exception, double delayMs);
}
