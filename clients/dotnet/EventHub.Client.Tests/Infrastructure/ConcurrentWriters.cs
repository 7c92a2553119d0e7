using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// Two writers committing sessions to one project at the same time (so commits interleave),
/// until stopped or 1,500 each.
/// </summary>
public sealed class ConcurrentWriters : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _progress = new(0);
    private readonly Task<int>[] _writers;
    private int _written;

    public ConcurrentWriters(SourceWriter writer, string project) =>
        _writers = [WriteAsync(writer, project, 1), WriteAsync(writer, project, 100_000)];

    /// <summary>Sessions committed so far.</summary>
    public int Written => Volatile.Read(ref _written);

    /// <summary>Waits until <paramref name="count"/> more sessions are committed.</summary>
    public async Task WaitForMoreAsync(int count)
    {
        var target = Written + count;
        while (Written < target) await _progress.WaitAsync().WithTimeout();
    }

    /// <summary>Stops the writers; returns how many sessions they committed in all.</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return (await Task.WhenAll(_writers).WithTimeout()).Sum();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_writers).WithTimeout(); } catch (Exception e) when (e is not TimeoutException) { }
        _stop.Dispose();
    }

    private async Task<int> WriteAsync(SourceWriter writer, string project, int from)
    {
        var n = 0;
        while (!_stop.IsCancellationRequested && n < 1500)
        {
            await writer.SessionAsync(project, from + n++);
            Interlocked.Increment(ref _written);
            _progress.Release();
        }
        return n;
    }
}
