using EventHub.Storage;

namespace EventHub.Log;

/// <summary>
/// <see cref="IChangeNotifier"/> over PostgreSQL LISTEN/NOTIFY, on the process's one LISTEN
/// connection (<see cref="PostgresListener"/>): <c>eventhub_tick</c> wakes the tail (the ticker
/// NOTIFYs each new tick; the payload is its id), and <c>eventhub_change_log</c>, the writers'
/// opt-in wake-up (docs/deploy.md), cuts the ticker's pause short.
/// </summary>
/// <remarks>
/// Notifications sent while the connection was down are lost, so every (re)connect raises a
/// wake-up: the tail then reads the log and catches whatever they were about.
/// </remarks>
public sealed class PostgresChangeNotifier : IChangeNotifier
{
    public const string Channel = "eventhub_tick";

    /// <summary>The writers' opt-in wake-up of the ticker (no trigger sends it by default).</summary>
    public const string WriterChannel = "eventhub_change_log";

    private readonly WakeupSignal _wakeup;
    private readonly PostgresListener _listener;

    public PostgresChangeNotifier(PostgresListener listener, TimeProvider timeProvider)
    {
        _listener = listener;
        _wakeup = new WakeupSignal(timeProvider);
        TickerWakeup = new WakeupSignal(timeProvider);
        // The payload is only a hint (the tick table is the truth); a bad one still wakes.
        // A payload that is not a tick id still wakes, and asks for a read.
        listener.Listen(Channel, payload =>
        {
            if (long.TryParse(payload, out var tick)) _wakeup.Signal(tick);
            else _wakeup.Signal();
        });
        listener.Listen(WriterChannel, _ => TickerWakeup.Signal());
        listener.Connected += _wakeup.Signal;
    }

    /// <summary>Whether the LISTEN connection is up (for readiness).</summary>
    public bool IsListening => _listener.IsListening;

    /// <summary>
    /// The ticker's pause: ended early by a writer's opt-in NOTIFY on <see cref="WriterChannel"/>,
    /// or by this node asking the ticker for a round now.
    /// </summary>
    public WakeupSignal TickerWakeup { get; }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _wakeup.WaitAsync(timeout, cancellationToken);

    public long LatestTick => _wakeup.LatestTick;

    public bool TakeReadRequest() => _wakeup.TakeReadRequest();

    /// <summary>Announces a tick made by this node's ticker to this node's tail, without the round trip of its NOTIFY.</summary>
    public void SignalTick(long tick) => _wakeup.Signal(tick);
}
