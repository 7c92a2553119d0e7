using EventHub.Operations;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace EventHub.Tests.Operations;

/// <summary>The start-up collection runs once, after the tail is ready, and not at all if the hub stops first.</summary>
public sealed class StartupCollectionTests
{
    [Fact]
    public async Task Collects_once_when_the_tail_becomes_ready_and_not_before()
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var collections = 0;
        var collected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var service = new StartupCollection(t => { waiting.TrySetResult(); return ready.Task.WaitAsync(t); }, () =>
        {
            Interlocked.Increment(ref collections);
            collected.TrySetResult();
        }, NullLogger<StartupCollection>.Instance);

        await service.StartAsync(CancellationToken.None);
        await waiting.Task.WithTimeout(); // the service waits for the tail
        Assert.False(service.ExecuteTask!.IsCompleted);
        Assert.Equal(0, Volatile.Read(ref collections));

        ready.SetResult();
        await collected.Task.WithTimeout();
        await service.ExecuteTask!.WithTimeout();
        Assert.Equal(1, Volatile.Read(ref collections));
        await service.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_hub_that_stops_before_its_tail_is_ready_does_not_collect()
    {
        var collections = 0;
        using var service = new StartupCollection(t => Task.Delay(Timeout.Infinite, t), () => Interlocked.Increment(ref collections),
            NullLogger<StartupCollection>.Instance);

        await service.StartAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None).WithTimeout();
        Assert.True(service.ExecuteTask!.IsCompleted); // ended (or never began: a stop before it ran cancels it)
        Assert.Equal(0, Volatile.Read(ref collections));
    }
}
