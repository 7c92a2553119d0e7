using EventHub.Streaming.Internal;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// One full, compacting collection as soon as the tail is ready (the recent-events window
/// loaded), before the hub carries load.
/// </summary>
/// <remarks>
/// Why: everything start-up leaves alive (the service graph, Kestrel, the window, the options,
/// compiled expressions) sits in gen 0 until the first collections, and those copy it to gen 1 and
/// again to gen 2 while clients are being served. In the bench's fresh cell (the hub's first 10 s
/// of 100 events/s to 100 SSE clients) that first gen-0 or gen-2 collection paused the hub 18–32
/// ms, in 15 of 16 cells, against ~5.6 ms for the same collection once the hub had run 20 s
/// (<c>bench/results/2026-12-04-slowest-events.md</c>). Collected here, those objects are in gen 2
/// after one pause at start-up, and the collections under load copy only young events (no
/// collection fell in that cell since: <c>2026-12-04-startup-collection.md</c>).
/// </remarks>
public sealed partial class StartupCollection : BackgroundService
{
    private readonly Func<CancellationToken, Task> _ready;
    private readonly Action? _collect;
    private readonly ILogger<StartupCollection> _logger;

    public StartupCollection(ChangeLogTail tail, IOptions<StartupCollectionOptions> options, ILogger<StartupCollection> logger)
        : this(tail.WaitUntilReadyAsync, options.Value.Enabled ? CollectEverything : null, logger)
    {
    }

    /// <summary>For tests: what "ready" is and what a collection does (null: none, as when disabled).</summary>
    internal StartupCollection(Func<CancellationToken, Task> ready, Action? collect, ILogger<StartupCollection> logger)
    {
        _ready = ready;
        _collect = collect;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_collect is null) return; // StartupCollection:Enabled is false
        try
        {
            await _ready(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return; // stopped before the tail was ready
        }
        var before = GC.GetTotalPauseDuration();
        _collect();
        LogCollected(_logger, (GC.GetTotalPauseDuration() - before).TotalMilliseconds);
    }

    private static void CollectEverything() =>
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);

    [LoggerMessage(EventId = 4801, Level = LogLevel.Debug, Message = "Start-up collection done ({PauseMs:F1} ms of pause).")]
    private static partial void LogCollected(ILogger logger, double pauseMs);
}
