using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Tests.Operations;

/// <summary>The bound on concurrent catch-up reads: reads queue past it, and a cancelled one leaves the queue.</summary>
public sealed class CatchUpBoundTests
{
    [Fact]
    public async Task Reads_past_the_bound_wait_for_a_slot_and_a_cancelled_waiting_read_leaves_the_queue_without_taking_a_slot()
    {
        var inner = new GatedReader();
        using var bounded = new BoundedCatchUpReader(inner, maxConcurrentReads: 2);

        var first = bounded.ReadAsync(LogPosition.Start, EventFilter.All, 10);
        var second = bounded.ReadAsync(LogPosition.Start, EventFilter.All, 10);
        using var cancel = new CancellationTokenSource();
        var cancelled = bounded.ReadAsync(LogPosition.Start, EventFilter.All, 10, cancel.Token);
        var queued = bounded.ReadAsync(LogPosition.Start, EventFilter.All, 10);
        await TaskTimeouts.UntilAsync(() => inner.Running == 2 && bounded.Queued == 2);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WithTimeout());
        Assert.Equal(1, bounded.Queued);
        Assert.Equal(2, inner.Running); // the cancelled read never ran

        inner.Release();
        await Task.WhenAll(first, second, queued).WithTimeout();
        Assert.Equal(3, inner.Started);
        Assert.Equal(2, inner.MaxRunning);
    }

    [Fact]
    public async Task The_hub_refuses_to_start_when_the_pool_cannot_hold_the_catch_up_bound_plus_the_reserve()
    {
        await using var db = await TestDatabase.CreateAsync();
        var tooSmall = new NpgsqlConnectionStringBuilder(db.ConnectionString) { MaxPoolSize = 10 }.ConnectionString;
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HubServer.StartAsync(tooSmall));
        Assert.Contains("Limits:MaxConcurrentCatchUps (8)", string.Join(" ", error.Failures));
        Assert.Contains("Maximum Pool Size 10", string.Join(" ", error.Failures));
    }

    private sealed class GatedReader : IChangeLogReader
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _running;
        private int _maxRunning;
        private int _started;

        public int Running => Volatile.Read(ref _running);
        public int MaxRunning => Volatile.Read(ref _maxRunning);
        public int Started => Volatile.Read(ref _started);
        public void Release() => _gate.TrySetResult();

        public async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _started);
            var now = Interlocked.Increment(ref _running);
            lock (_gate) _maxRunning = Math.Max(_maxRunning, now);
            try
            {
                await _gate.Task.WaitAsync(cancellationToken);
                return new LogBatch([], after, Complete: true);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }

        public ValueTask<string> GetEpochAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult("test");
        public Task<long> GetHeadTickAsync(CancellationToken cancellationToken = default) => Task.FromResult(1L);
        public Task<RecentRows> ReadLastAsync(long throughTick, int count, long maxPayloadBytes, CancellationToken cancellationToken = default) =>
            Task.FromResult(new RecentRows([], LogPosition.Start));
        public Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default) => throw new NotSupportedException();
        public Task<long> TickNowAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
