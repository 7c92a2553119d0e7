using EventHub.Log;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace EventHub.Tests.Operations;

public static class ReaderSeams
{
    /// <summary>Replaces the tail's reader (<see cref="LogReaders.Tail"/>) with <paramref name="wrap"/> over the real one, on the tail's pool.</summary>
    public static IServiceCollection WrapTailReader(this IServiceCollection services, Func<IChangeLogReader, IChangeLogReader> wrap) =>
        services.AddKeyedSingleton<IChangeLogReader>(LogReaders.Tail, (sp, _) =>
            wrap(new ChangeLogReader(sp.GetRequiredKeyedService<NpgsqlDataSource>(LogDataSources.Tail), boundPayloadsInDatabase: true)));
}

/// <summary>
/// A decorator of the primary <see cref="IChangeLogReader"/> for the operations tests: it counts
/// the database work of head-offset calls (one tick each), and can make them and offset look-ups
/// fail like a broken database.
/// </summary>
public sealed class ObservedReader(IChangeLogReader inner, Func<CancellationToken, Task>? fail = null) : DelegatingChangeLogReader(inner)
{
    /// <summary>
    /// A hub that does not tick (as a node that does not hold the ticker's lease): its head offsets
    /// and streams from now make a tick themselves, through this reader.
    /// </summary>
    public static Dictionary<string, string?> FollowerSettings => new() { ["Ticker:Enabled"] = "false" };

    private int _ticksInFlight;
    private int _maxTicksInFlight;
    private int _ticks;

    /// <summary>The most head-offset ticks that ran at once.</summary>
    public int MaxTicksInFlight => Volatile.Read(ref _maxTicksInFlight);

    /// <summary>Head-offset ticks so far.</summary>
    public int Ticks => Volatile.Read(ref _ticks);

    /// <summary>While set, ticks and offset look-ups run <c>fail</c> (which throws) instead.</summary>
    public volatile bool Failing;

    public override async Task<long> TickNowAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _ticks);
        var now = Interlocked.Increment(ref _ticksInFlight);
        int max;
        while (now > (max = Volatile.Read(ref _maxTicksInFlight)) && Interlocked.CompareExchange(ref _maxTicksInFlight, now, max) != max) { }
        try
        {
            if (Failing && fail is not null)
                await fail(cancellationToken);
            // Hold the query a little, as a loaded database would: overlapping calls overlap here.
            await Task.Delay(5, cancellationToken);
            return await Inner.TickNowAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _ticksInFlight);
        }
    }

    /// <summary>Offsets looked up in the database so far.</summary>
    public int LookUps => Volatile.Read(ref _lookUps);
    private int _lookUps;

    public override async Task<OffsetLookup> LookUpAsync(ParsedOffset offset, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _lookUps);
        if (Failing && fail is not null)
            await fail(cancellationToken);
        return await Inner.LookUpAsync(offset, cancellationToken);
    }
}

/// <summary>
/// Holds the first forward read of the reader it wraps until <paramref name="release"/> completes
/// (or the read is cancelled); later reads pass at once.
/// </summary>
public sealed class FirstReadHeld(IChangeLogReader inner, Task release) : DelegatingChangeLogReader(inner)
{
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reads;

    /// <summary>Completes when the first read has begun (and is held).</summary>
    public Task Entered => _entered.Task;

    /// <summary>Whether the held read was cancelled before its release.</summary>
    public bool Cancelled { get; private set; }

    public override async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Increment(ref _reads) == 1)
        {
            _entered.TrySetResult();
            try
            {
                await release.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled = true;
                throw;
            }
        }
        return await Inner.ReadAsync(after, filter, limit, cancellationToken);
    }
}

/// <summary>Counts the forward reads (<see cref="IChangeLogReader.ReadAsync"/>) of the reader it wraps, with where each started and its row limit.</summary>
public sealed class CountingReader(IChangeLogReader inner) : DelegatingChangeLogReader(inner)
{
    private int _reads;

    /// <summary>Forward reads so far.</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Where each forward read started, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<LogPosition> From { get; } = new();

    /// <summary>Each forward read's row limit, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<int> Limits { get; } = new();

    /// <summary>Each forward read's payload bound, in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<long> PayloadLimits { get; } = new();

    /// <summary>The payload bytes of each batch the reads returned, in the order they returned.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<long> PayloadsReturned { get; } = new();

    public override async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
    {
        Limits.Enqueue(limit.Rows);
        PayloadLimits.Enqueue(limit.PayloadBytes);
        From.Enqueue(after);
        Interlocked.Increment(ref _reads);
        var batch = await Inner.ReadAsync(after, filter, limit, cancellationToken);
        PayloadsReturned.Enqueue(batch.Events.Sum(e => (long)e.PayloadSize));
        return batch;
    }
}
