using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// The hub process's one LISTEN connection. Components register the channels they want
/// (<see cref="Listen"/>), each with its handler; the listener owns the connection, re-opens it with
/// backoff when it breaks, and tells its users when it is (re)connected
/// (<see cref="Connected"/>): notifications sent while it was down are lost, so whoever relies on
/// them must look for themselves then.
/// </summary>
/// <remarks>
/// One connection for every channel keeps the hub's connection count fixed. Handlers run on the
/// connection's thread, in the order notifications arrive; they must not block.
/// </remarks>
public sealed partial class PostgresListener(NpgsqlDataSource dataSource, PrimaryPools pools, TimeProvider timeProvider,
    ILogger<PostgresListener> logger)
    : BackgroundService
{
    /// <summary>How long the connection may be quiet before a round trip checks it is still there.</summary>
    internal static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(5);

    /// <summary>How long that round trip may take (Npgsql's unit, seconds).</summary>
    internal const int CheckTimeoutSeconds = 5;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Action<string>> _channels = new(StringComparer.Ordinal);
    private CancellationTokenSource _changed = new();
    private volatile bool _listening;

    /// <summary>Whether the LISTEN connection is up (for readiness, and for senders that need to know).</summary>
    public bool IsListening => _listening;

    /// <summary>Raised after every (re)connect, once the connection listens on every channel.</summary>
    public event Action? Connected;

    /// <summary>Listens on <paramref name="channel"/> (an identifier), calling <paramref name="handler"/> with each payload.</summary>
    public void Listen(string channel, Action<string> handler)
    {
        if (!channel.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"'{channel}' is not a plain channel name.", nameof(channel));
        CancellationTokenSource changed;
        lock (_gate)
        {
            _channels[channel] = handler;
            changed = _changed;
        }
        changed.Cancel(); // a running connection issues the new LISTEN
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            NpgsqlConnection? connection = null;
            try
            {
                connection = await dataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                var listened = new HashSet<string>(StringComparer.Ordinal);
                while (true)
                {
                    CancellationTokenSource changed;
                    string[] pending;
                    lock (_gate)
                    {
                        if (_changed.IsCancellationRequested) { _changed.Dispose(); _changed = new(); }
                        changed = _changed;
                        pending = _channels.Keys.Where(c => !listened.Contains(c)).ToArray();
                    }
                    if (pending.Length > 0)
                    {
                        await using (var listen = new NpgsqlCommand(string.Concat(pending.Select(c => $"LISTEN {c};")), connection))
                            await listen.ExecuteNonQueryAsync(stoppingToken);
                        listened.UnionWith(pending);
                    }
                    if (!_listening)
                    {
                        _listening = true;
                        backoff = TimeSpan.FromMilliseconds(100);
                        LogListening(string.Join(", ", listened));
                        Connected?.Invoke();
                    }
                    using var wait = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, changed.Token);
                    try
                    {
                        while (true)
                        {
                            if (await connection.WaitAsync(IdleCheck, wait.Token)) continue;
                            // Quiet for IdleCheck: a connection the network lost without a reset (a
                            // failover that left the old server unreachable, a firewall's or NAT's
                            // dropped state) is quiet for good, and this node would hear no other
                            // node's tick and no project notice again; TCP keepalive is first sent
                            // after two hours and answered by whatever holds the other end (a proxy,
                            // a pooler). A round trip shows it, within CheckTimeoutSeconds plus
                            // Npgsql's Cancellation Timeout, 2 s (SilentConnectionLossTests).
                            await using var check = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = CheckTimeoutSeconds };
                            await check.ExecuteNonQueryAsync(wait.Token);
                        }
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        // A channel was added: listen on it too.
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // A session the server or the network lost: every pool's idle sessions most likely
                // went with it (PrimaryPools). One an error left open is dropped too rather than
                // handed to a read still listening (the hub's pools do not reset sessions, HubDataSources).
                if (connection is { State: not System.Data.ConnectionState.Open }) pools.Clear();
                else if (connection is not null) dataSource.Clear();
                if (connection is not null) await connection.DisposeAsync(); // not held through the backoff
                connection = null;
                _listening = false;
                LogConnectionLost(e, backoff.TotalMilliseconds);
                Connected?.Invoke(); // nothing arrives while down: users look for themselves meanwhile
                try { await Task.Delay(backoff, timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
            finally
            {
                if (connection is not null) await connection.DisposeAsync();
            }
        }
        _listening = false;
    }

    private void Dispatch(string channel, string payload)
    {
        Action<string>? handler;
        lock (_gate) _channels.TryGetValue(channel, out handler);
        try
        {
            handler?.Invoke(payload);
        }
        catch (Exception e)
        {
            LogHandlerFailed(e, channel);
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Listening for notifications on {Channels}")]
    private partial void LogListening(string channels);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "The LISTEN connection failed; retrying in {DelayMs} ms")]
    private partial void LogConnectionLost(Exception exception, double delayMs);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "A handler of notifications on {Channel} failed")]
    private partial void LogHandlerFailed(Exception exception, string channel);
}
