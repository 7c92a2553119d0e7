using System.Buffers;
using System.Diagnostics;
using EventHub.Log;
using EventHub.Sse;
using EventHub.Streaming;
using EventHub.Streaming.Internal;
using Microsoft.Extensions.Options;

namespace EventHub.Operations;

/// <summary>
/// Once the tail is ready, reads the oldest events of the log through the catch-up path and writes
/// their SSE frames to nowhere (<see cref="CatchUpWarmUpOptions.Events"/> of them), so that the
/// first client's catch-up does not run the path's first, unoptimized code.
/// </summary>
/// <remarks>
/// Why: the first catch-up after a start took about three times as long as the next one (lab, the
/// first 50,000 events of a 1,760,000-row log of one project: 0.84–0.97 s against 0.28–0.38 s).
/// Part of it is the hub's own: each method on the path starts as quickly compiled code and is
/// recompiled optimized only once it has been called often enough, while the first catch-up runs.
/// The rest is PostgreSQL's: a new session maps each shared buffer it touches for the first time
/// (deploy.md, "Huge pages"); reading the oldest events, where a catch-up from "0" starts, also
/// opens the catch-up pool's session (kept open, LogDataSources) and maps those pages. With it the
/// first catch-up took 0.51–0.63 s (same lab, six restarts with it, nine without); the warm-up
/// itself 0.64–0.82 s in the background after the tail is ready (20,000 events). It reads through
/// the catch-up pool's bound like any client; a failed warm-up costs only its speed-up. It runs
/// beside <see cref="StartupCollection"/>, not after it: with the collection after the warm-up the
/// first catch-up took 0.66–0.68 s (three restarts; the compacted heap grew again under it).
/// The hub reports ready only once the warm-up has ended (<see cref="Health.StartupWarmUpHealthCheck"/>,
/// within <see cref="CatchUpWarmUpOptions.Timeout"/>), so that it does not compete with the first
/// live load for the cores (bench/results/2026-12-05-hub-youth.md).
/// </remarks>
public sealed partial class CatchUpWarmUp(
    ChangeLogTail tail,
    [FromKeyedServices(LogReaders.CatchUp)] IChangeLogReader catchUpReader,
    IOptions<StreamOptions> streamOptions,
    IOptions<CatchUpWarmUpOptions> options,
    ILogger<CatchUpWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var wanted = options.Value.Events;
            if (wanted <= 0) return;
            await tail.WaitUntilReadyAsync(stoppingToken);
            var started = Stopwatch.GetTimestamp();
            // Bounded: readiness waits for the warm-up, and a read on a lost session would wait out
            // the catch-up pool's command timeout.
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            limit.CancelAfter(options.Value.Timeout);
            try
            {
                var (events, bytes) = await ReadAsync(catchUpReader, streamOptions.Value, wanted, options.Value.PayloadBytes, limit.Token);
                LogWarmedUp(logger, events, bytes, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (limit.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
            {
                LogTimedOut(logger, options.Value.Timeout.TotalSeconds);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogFailed(logger, e);
        }
    }

    /// <summary>
    /// Reads up to <paramref name="wanted"/> events from the log's start in pages as a catch-up
    /// reads them (<see cref="PageLimit"/>), stopping after the page that brings their payloads
    /// to <paramref name="maxPayloadBytes"/>, and writes their SSE frames to a scratch buffer;
    /// returns how many events and the frames' bytes.
    /// </summary>
    internal static async Task<(int Events, long Bytes)> ReadAsync(IChangeLogReader reader, StreamOptions stream, int wanted,
        long maxPayloadBytes, CancellationToken cancellationToken)
    {
        long payloadBytes = 0;
        var limit = new PageLimit(stream.CatchUpBatchSize, stream.CatchUpPagePayloadBytes);
        var frames = new ArrayBufferWriter<byte>(64 * 1024);
        var position = LogPosition.Start;
        int events = 0;
        long bytes = 0;
        while (events < wanted && payloadBytes < maxPayloadBytes)
        {
            var batch = await reader.ReadAsync(position, EventFilter.All, limit with { Rows = Math.Min(limit.Rows, wanted - events) }, cancellationToken);
            foreach (var e in batch.Events)
            {
                frames.ResetWrittenCount();
                bytes += SseEventFrames.Write(frames, e);
                payloadBytes += e.PayloadSize;
            }
            events += batch.Events.Count;
            position = batch.Through;
            limit = PageLimit.For(stream.CatchUpBatchSize, stream.CatchUpPagePayloadBytes, batch.Events, limit);
            if (batch.Complete || batch.Events.Count == 0) break;
        }
        return (events, bytes);
    }

    [LoggerMessage(EventId = 4811, Level = LogLevel.Debug, Message = "Catch-up warm-up read {Events} events ({Bytes} bytes of SSE frames) in {Ms:F0} ms.")]
    private static partial void LogWarmedUp(ILogger logger, int events, long bytes, double ms);

    [LoggerMessage(EventId = 4813, Level = LogLevel.Warning, Message = "Catch-up warm-up gave up after {Seconds:F0} s (CatchUpWarmUp:Timeout); the first catch-up may run cold.")]
    private static partial void LogTimedOut(ILogger logger, double seconds);

    [LoggerMessage(EventId = 4812, Level = LogLevel.Warning, Message = "Catch-up warm-up failed; the first catch-up runs cold.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
