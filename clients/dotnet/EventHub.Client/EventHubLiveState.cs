// How the live state stays exact: load, stream after, reload on a reset.
//
// The hub's GetState answers the latest event of every entity exactly as of an offset S, and the
// stream after S gives exactly the later changes (no gap, no overlap; design.md, "Live state"). So
// the live state loads the state, moves the client's stream to S (EventHubClient.ResumeAfter) and
// applies every streamed event, in stream order, to the entity it keys: the later event wins. The
// keys of streamed events come from the state's own answer (LiveState.EntityKeys), so a type the
// hub's configuration keys lands on the same entity as in the state.
//
// Drops and hub restarts are the client's: it reconnects and resumes after the last event it
// yielded, which is the last one applied here, so nothing is refetched and nothing is applied twice.
// A reset is different: the hub cannot continue from our offset without a gap (retention pruned
// events after it, another log), so what we hold may be stale. The client would continue from the
// hub's head, but events between our offset and that head are lost to us, and offsets are opaque, so
// we cannot tell which of the head's and a new state's offsets comes first. Hence: stop the stream at
// the reset item, load the state again, and stream after the new state's offset: no gap (the state
// holds everything up to its offset) and no duplicate (the stream starts after it).

using System.Runtime.CompilerServices;
using EventHub.Client.Internal;
using EventHub.Contracts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventHub.Client;

/// <summary>
/// The live state of an <see cref="EventHubClient"/>'s projects and types: the latest event of every
/// session, pull request, check and review thread (and of every kind the hub's configuration keys),
/// loaded from the hub's state and kept current from the stream. On a reset it loads the state again
/// by itself and goes on; after a dropped connection or a hub restart it resumes from its offset
/// without loading again.
/// </summary>
/// <remarks>
/// <see cref="ReadChangesAsync"/> drives it: enumerate it (in the background, or as the loop of your
/// app) and redraw on each change. Read <see cref="Current"/> from any thread at any time: it is an
/// immutable snapshot, consistent as of its offset. The live state uses the client's stream: do not
/// enumerate the client yourself while the live state does.
/// </remarks>
/// <example>
/// <code>
/// await using var client = new EventHubClient(new EventHubClientOptions { HubUrl = new("http://127.0.0.1:5080"), Projects = ["ao"] });
/// var live = new EventHubLiveState(client);
/// await foreach (var change in live.ReadChangesAsync(cancellationToken))
/// {
///     foreach (var session in change.State.Sessions) Console.WriteLine($"{session.Id} {session.Activity}");
/// }
/// </code>
/// </example>
public sealed partial class EventHubLiveState
{
    private readonly ILiveStateSource _source;
    private readonly ILogger _logger;
    private readonly TaskCompletionSource<LiveStateSnapshot> _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LiveStateSnapshot _current = LiveStateSnapshot.Empty;
    private int _loads;
    private int _reading;

    // The keys of the loaded state; touched only by the enumeration (one at a time).
    private EntityKeyer? _keyer;

    /// <summary>
    /// Creates the live state of <paramref name="client"/>'s selection (its
    /// <see cref="EventHubClientOptions.Projects"/> and <see cref="EventHubClientOptions.Types"/>;
    /// its <see cref="EventHubClientOptions.StartAfter"/> is not used: the stream starts at the
    /// state's offset). Nothing is loaded until <see cref="ReadChangesAsync"/> is enumerated.
    /// </summary>
    /// <param name="client">The client to load the state and stream with; the live state does not dispose it.</param>
    public EventHubLiveState(EventHubClient client)
        : this(client ?? throw new ArgumentNullException(nameof(client)), client.LoggerFactory)
    {
    }

    internal EventHubLiveState(ILiveStateSource source, ILoggerFactory? loggerFactory)
    {
        _source = source;
        _logger = loggerFactory?.CreateLogger<EventHubLiveState>() ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// The state now: an immutable snapshot, safe to read from any thread (before the first load,
    /// an empty one whose <see cref="LiveStateSnapshot.IsLoaded"/> is false).
    /// </summary>
    public LiveStateSnapshot Current => Volatile.Read(ref _current);

    /// <summary>The offset the state is current at (<see cref="LiveStateSnapshot.Offset"/> of <see cref="Current"/>); null before the first load.</summary>
    public string? Offset => Current.Offset;

    /// <summary>How many times the state was loaded from the hub: 1 after the first load, one more for each reset.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>Completes with the first loaded state (for code that reads <see cref="Current"/> while another task enumerates).</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    public Task<LiveStateSnapshot> WhenLoadedAsync(CancellationToken cancellationToken = default) =>
        _loaded.Task.WaitAsync(cancellationToken);

    /// <summary>
    /// Loads the state, then keeps it current from the stream, without end: yields
    /// <see cref="LiveStateChangeKind.Loaded"/> first, then one change per streamed event (applied to
    /// its entity, or <see cref="LiveStateChangeKind.Unkeyed"/>), and
    /// <see cref="LiveStateChangeKind.Reloaded"/> when a reset made it load the state again. Each
    /// change carries the state after it. A later enumeration continues from <see cref="Offset"/>
    /// without loading again.
    /// </summary>
    /// <param name="cancellationToken">Ends the enumeration (it then throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="EventHubRequestException">The hub rejected the request (a bad project or type, a project the token does not grant).</exception>
    /// <exception cref="EventHubConnectionException">The hub could not be reached at first, refused the connection, or the reconnect policy gave up.</exception>
    /// <exception cref="InvalidOperationException">Another enumeration of this live state, or of its client, is running.</exception>
    public async IAsyncEnumerable<LiveStateChange> ReadChangesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _reading, 1) == 1)
            throw new InvalidOperationException("This live state is already being enumerated; read its Current state from other code instead.");
        try
        {
            if (_keyer is not null && Current.Offset is { } offset) _source.ResumeAfter(offset);
            else yield return await LoadAsync(null, cancellationToken).ConfigureAwait(false);

            while (true)
            {
                StreamReset? reset = null;
                await foreach (var changeEvent in _source.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (changeEvent is StreamReset r)
                    {
                        reset = r; // stops this stream: the next one starts at the new state's offset
                        break;
                    }
                    yield return Apply(changeEvent);
                }
                if (reset is null) yield break; // the client was disposed
                LogReloading(_logger, reset.Reason, reset.PreviousOffset ?? "(none)");
                yield return await LoadAsync(reset, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref _reading, 0);
        }
    }

    /// <summary>Loads the state, publishes it, and moves the stream to its offset.</summary>
    private async Task<LiveStateChange> LoadAsync(StreamReset? reset, CancellationToken cancellationToken)
    {
        var state = await _source.GetStateAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = LiveStateSnapshot.Load(state);
        _keyer = new EntityKeyer(state.EntityKeys);
        _source.ResumeAfter(state.Offset);
        Volatile.Write(ref _current, snapshot);
        var loads = Interlocked.Increment(ref _loads);
        LogLoaded(_logger, snapshot.Count, snapshot.Offset!, loads);
        _loaded.TrySetResult(snapshot);
        return new LiveStateChange(reset is null ? LiveStateChangeKind.Loaded : LiveStateChangeKind.Reloaded, snapshot, reset: reset);
    }

    /// <summary>Applies one streamed event to the entity it keys, unless the entity holds a newer event (by seq).</summary>
    private LiveStateChange Apply(ChangeEvent changeEvent)
    {
        var current = Current;
        if (!_keyer!.TryIdentify(changeEvent, out var id))
        {
            var skipped = current.Skip(changeEvent);
            Volatile.Write(ref _current, skipped);
            return new LiveStateChange(LiveStateChangeKind.Unkeyed, skipped, changeEvent);
        }
        var typed = changeEvent.ToTyped();
        var previous = current.Find(id);
        // An entity's version is its event's seq: for one entity seq order is commit order, the
        // stream's order is not (inside a tick two transactions go by transaction id, and the
        // older id may have committed second). The hub's state follows the same rule.
        if (previous is not null && previous.Seq >= changeEvent.Seq)
        {
            var passed = current.Pass(changeEvent);
            Volatile.Write(ref _current, passed);
            return new LiveStateChange(LiveStateChangeKind.Superseded, passed, typed, id, previous);
        }
        var next = current.Apply(id, typed);
        Volatile.Write(ref _current, next);
        return new LiveStateChange(LiveStateChangeKind.Applied, next, typed, id, previous);
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Loaded the live state: {Count} entities at offset {Offset} (load {Loads}).")]
    private static partial void LogLoaded(ILogger logger, int count, string offset, int loads);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "The hub reset the stream ({Reason}) after offset {Offset}; loading the state again.")]
    private static partial void LogReloading(ILogger logger, string reason, string offset);
}
