using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// Enumerates an <see cref="EventHubClient"/> in the background, recording events and state
/// changes; every wait is bounded.
/// </summary>
public sealed class ClientReader : IAsyncDisposable
{
    private readonly Channel<ChangeEvent> _events = Channel.CreateUnbounded<ChangeEvent>();
    private readonly Channel<EventHubConnectionState> _states = Channel.CreateUnbounded<EventHubConnectionState>();
    private readonly List<EventHubConnectionState> _history = [];
    private readonly CancellationTokenSource _stop = new();

    public ClientReader(EventHubClient client)
    {
        Client = client;
        client.StateChanged += (_, e) =>
        {
            lock (_history) _history.Add(e.Current);
            _states.Writer.TryWrite(e.Current);
        };
        Completion = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in client.ReadAllAsync(_stop.Token)) _events.Writer.TryWrite(e);
                _events.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _events.Writer.TryComplete(e);
                throw;
            }
        });
    }

    public EventHubClient Client { get; }

    /// <summary>Ends when the enumeration ends; faults with its exception.</summary>
    public Task Completion { get; }

    public IReadOnlyList<EventHubConnectionState> States
    {
        get { lock (_history) return _history.ToArray(); }
    }

    public async Task<List<ChangeEvent>> ReadAsync(int count)
    {
        var list = new List<ChangeEvent>(count);
        for (var i = 0; i < count; i++) list.Add(await _events.Reader.ReadAsync().AsTask().WithTimeout());
        return list;
    }

    /// <summary>Waits until the client has entered <paramref name="state"/> (now or earlier, after the last wait).</summary>
    public async Task WaitForStateAsync(EventHubConnectionState state)
    {
        while (await _states.Reader.ReadAsync().AsTask().WithTimeout() != state) { }
    }

    /// <summary>Whether an event is waiting that no test asked for.</summary>
    public bool HasUnreadEvent => _events.Reader.TryPeek(out _);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        // How the enumeration ended is the test's to assert (through Completion), not the cleanup's.
        try { await Completion.WithTimeout(); }
        catch (Exception e) when (e is not TimeoutException) { }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await Client.DisposeAsync();
        _stop.Dispose();
    }
}
