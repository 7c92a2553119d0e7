using EventHub.Auth;
using EventHub.Log;
using EventHub.Observability;

namespace EventHub.Streaming.Policy;

/// <summary>
/// A stream that <see cref="StreamPolicy"/> opened for one caller: the events it may read, ended
/// when the client leaves, when the hub stops, on a reset, or when the token that authorized it
/// expires. The transport supplies only the framing (<see cref="RunAsync"/>'s writer) and frames
/// the <see cref="StreamEnd"/> it returns. Dispose it to leave the fan-out and free its slot.
/// </summary>
public sealed partial class StreamSession : IAsyncDisposable
{
    private readonly EventStream _stream;
    private readonly StreamGrant _grant;
    private readonly IDisposable? _connection;
    private readonly StreamCaller _caller;
    private readonly EventHubMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private long _delivered;
    private int _disposed;

    internal StreamSession(EventStream stream, StreamGrant grant, IDisposable? connection, StreamCaller caller,
        EventHubMetrics metrics, TimeProvider timeProvider, ILogger logger)
    {
        _stream = stream;
        _grant = grant;
        _connection = connection;
        _caller = caller;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        Projects = grant.Request.Projects.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The projects granted (never the ones the client named unless they were allowed); empty: every project.</summary>
    public IReadOnlyList<string> Projects { get; }

    /// <summary>Events delivered so far.</summary>
    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>For a stream from now, the offset it starts after; null for a stream from an offset (<see cref="EventStream.FromNowOffset"/>).</summary>
    public string? FromNowOffset => _stream.FromNowOffset;

    /// <summary>
    /// Runs <paramref name="write"/> over the stream's events until the stream ends, and says how
    /// it ended. <paramref name="write"/> gets a token that fires when the client leaves
    /// (<paramref name="clientGone"/>) or the token expires; it must stop when it fires.
    /// Never throws for an ending of the stream: every way out is a <see cref="StreamEnd"/>.
    /// </summary>
    public async Task<StreamEnd> RunAsync(Func<IAsyncEnumerable<LogEvent>, CancellationToken, Task> write,
        CancellationToken clientGone)
    {
        // A stream outlives the check of its token (a SignalR connection, a long SSE response):
        // the token's expiry ends it, on the injected clock.
        using var expiry = TokenExpiry.Start(_grant.ExpiresAt, _timeProvider);
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(clientGone, expiry.Token);
        _metrics.StreamOpened(_caller.Transport);
        try
        {
            await write(CountDelivered(_stream.ReadAllAsync(ended.Token)), ended.Token);
            // The events end only when the fan-out removed the subscription: the hub is stopping.
            LogServerEnded(_logger, _caller.Transport, Delivered);
            return new StreamEnd(StreamEndReason.ServerEnded, Delivered);
        }
        catch (OperationCanceledException) when (clientGone.IsCancellationRequested)
        {
            return new StreamEnd(StreamEndReason.Cancelled, Delivered);
        }
        catch (StreamResetException reset)
        {
            // Retention pruned events after this stream's position: an explicit reset, never a gap.
            _metrics.Reset(_caller.Transport, reset.Reason);
            return new StreamEnd(StreamEndReason.Reset, Delivered, reset);
        }
        catch (OperationCanceledException) when (expiry.HasExpired)
        {
            LogExpired(_logger, _caller.Transport, Delivered);
            return new StreamEnd(StreamEndReason.TokenExpired, Delivered);
        }
        catch (Exception e) when (StreamPolicy.IsDatabaseFailure(e))
        {
            LogDatabaseFailed(_logger, _caller.Transport, e);
            return new StreamEnd(StreamEndReason.DatabaseUnavailable, Delivered);
        }
        catch (Exception e)
        {
            LogFailed(_logger, _caller.Transport, e);
            return new StreamEnd(StreamEndReason.Failed, Delivered);
        }
        finally
        {
            _metrics.StreamClosed(_caller.Transport);
        }
    }

    private async IAsyncEnumerable<LogEvent> CountDelivered(IAsyncEnumerable<LogEvent> events)
    {
        await foreach (var e in events.ConfigureAwait(false))
        {
            yield return e;
            // Counted when the transport asks for the next one: it has taken this one.
            Interlocked.Increment(ref _delivered);
            _metrics.Delivered(_caller.Transport);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { await _stream.DisposeAsync(); }
        finally { _connection?.Dispose(); }
    }

    [LoggerMessage(EventId = 4301, Level = LogLevel.Information, Message = "The server ended a {Transport} stream after {Delivered} events.")]
    private static partial void LogServerEnded(ILogger logger, string transport, long delivered);

    [LoggerMessage(EventId = 4302, Level = LogLevel.Information, Message = "A {Transport} stream ended after {Delivered} events because its token expired.")]
    private static partial void LogExpired(ILogger logger, string transport, long delivered);

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "A {Transport} stream ended because the database failed; the client will resume from its offset.")]
    private static partial void LogDatabaseFailed(ILogger logger, string transport, Exception exception);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Error, Message = "A {Transport} stream failed.")]
    private static partial void LogFailed(ILogger logger, string transport, Exception exception);
}
