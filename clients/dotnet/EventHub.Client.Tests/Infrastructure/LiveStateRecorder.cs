using System.Threading.Channels;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// Enumerates an <see cref="EventHubLiveState"/> in the background, recording every change; every
/// wait is bounded and wakes on the changes themselves (no polling).
/// </summary>
public sealed class LiveStateRecorder : IAsyncDisposable
{
    private readonly Channel<LiveStateChange> _changes = Channel.CreateUnbounded<LiveStateChange>();
    private readonly List<LiveStateChange> _all = [];
    private readonly CancellationTokenSource _stop = new();

    public LiveStateRecorder(EventHubLiveState live)
    {
        Live = live;
        Completion = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in live.ReadChangesAsync(_stop.Token))
                {
                    lock (_all) _all.Add(change);
                    _changes.Writer.TryWrite(change);
                }
                _changes.Writer.TryComplete();
            }
            catch (Exception e)
            {
                _changes.Writer.TryComplete(e);
                throw;
            }
        });
    }

    public EventHubLiveState Live { get; }

    /// <summary>Ends when the enumeration ends; faults with its exception.</summary>
    public Task Completion { get; }

    /// <summary>Every change so far, in order.</summary>
    public IReadOnlyList<LiveStateChange> All
    {
        get { lock (_all) return _all.ToArray(); }
    }

    /// <summary>Reads changes (after those earlier waits read) until one satisfies <paramref name="predicate"/>.</summary>
    public async Task<LiveStateChange> WaitForAsync(Func<LiveStateChange, bool> predicate, TimeSpan? timeout = null, string? because = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        try
        {
            while (true)
            {
                var change = await _changes.Reader.ReadAsync(cts.Token);
                if (predicate(change)) return change;
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException(because ?? "No such change of the live state in time.");
        }
    }

    /// <summary>Waits until <paramref name="count"/> more events are applied.</summary>
    public async Task WaitForAppliedAsync(int count)
    {
        for (var i = 0; i < count; i++)
            await WaitForAsync(c => c.Kind == LiveStateChangeKind.Applied, because: $"only {i} of {count} events applied in time");
    }

    /// <summary>Waits until the current state satisfies <paramref name="condition"/>: now, or after a later change.</summary>
    public async Task UntilAsync(Func<LiveStateSnapshot, bool> condition, TimeSpan? timeout = null, Func<string>? because = null)
    {
        if (condition(Live.Current)) return;
        try
        {
            await WaitForAsync(c => condition(c.State), timeout);
        }
        catch (TimeoutException) when (because is not null)
        {
            throw new TimeoutException(because());
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        // How the enumeration ended is the test's to assert (through Completion), not the cleanup's.
        try { await Completion.WithTimeout(); }
        catch (Exception e) when (e is not TimeoutException) { }
        _stop.Dispose();
    }
}
