namespace EventHub.Tests.Infrastructure;

/// <summary>Every await in a test is bounded; the bound is generous, it is never the synchronisation.</summary>
public static class TaskTimeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(20);

    public static Task<T> WithTimeout<T>(this Task<T> task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);
    public static Task WithTimeout(this Task task, TimeSpan? timeout = null) => task.WaitAsync(timeout ?? Default);
    public static Task<T> WithTimeout<T>(this ValueTask<T> task, TimeSpan? timeout = null) => task.AsTask().WaitAsync(timeout ?? Default);

    /// <summary>Waits for a condition that no event announces (for example a count after a disconnect).</summary>
    public static async Task UntilAsync(Func<bool> condition, TimeSpan? timeout = null, string? because = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Default);
        while (!condition())
        {
            if (cts.IsCancellationRequested) throw new TimeoutException(because ?? "The condition did not hold in time.");
            await Task.Delay(10);
        }
    }

    /// <summary>As <see cref="UntilAsync(Func{bool}, TimeSpan?, string?)"/>, for a condition that must be queried (a database's view).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? because = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Default);
        while (!await condition())
        {
            if (cts.IsCancellationRequested) throw new TimeoutException(because ?? "The condition did not hold in time.");
            await Task.Delay(10);
        }
    }
}
