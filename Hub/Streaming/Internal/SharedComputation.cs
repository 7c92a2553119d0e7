namespace EventHub.Streaming.Internal;

/// <summary>
/// Runs one computation at a time for any number of callers: a caller that arrives while none
/// runs starts one; callers that arrive while one runs all share the next one, which starts when
/// the running one ends. So each caller gets a result computed entirely after its arrival, and a
/// burst of N calls costs at most two computations in a row, not N at once.
/// </summary>
/// <remarks>
/// Used for the head offset (several queries, up to 2 s of waiting for open transactions): an
/// unbounded burst of head calls was a cheap way to load the database. Coalescing rather than a
/// semaphore, because the callers' answers are interchangeable: a semaphore would still run N
/// computations, only fewer at once. Joining the computation already running would be cheaper
/// still, but wrong: it may have read the log before the caller's call, and the head must cover
/// every event committed before the call. A per-connection rate is not needed on top: however
/// often one client calls, the database sees at most one computation at a time from this node
/// (and SignalR runs one invocation per connection at a time).
/// The computation runs with <paramref name="stopping"/>, not a caller's token: a caller that
/// gives up leaves, the others still get their answer.
/// </remarks>
public sealed class SharedComputation<T>(Func<CancellationToken, Task<T>> compute, CancellationToken stopping)
{
    private readonly Lock _gate = new();
    private bool _running;
    private TaskCompletionSource<T>? _next;

    public Task<T> GetAsync(CancellationToken cancellationToken = default)
    {
        TaskCompletionSource<T> result;
        lock (_gate)
        {
            if (_running)
            {
                result = _next ??= new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
                return result.Task.WaitAsync(cancellationToken);
            }
            _running = true;
            result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        _ = RunAsync(result);
        return result.Task.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(TaskCompletionSource<T> result)
    {
        while (true)
        {
            try
            {
                result.SetResult(await compute(stopping));
            }
            catch (OperationCanceledException e)
            {
                result.SetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
            lock (_gate)
            {
                if (_next is null)
                {
                    _running = false;
                    return;
                }
                result = _next;
                _next = null;
            }
        }
    }
}
