using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.State;

/// <summary>
/// Folds the log's ticks since the live state's base mark into the durable base every
/// <see cref="StateBaseOptions.BaseInterval"/> (migration 0016's <c>eventhub_advance_state_base</c>),
/// so a rebuild after a crash reads at most that long a stretch of the log, retention or not.
/// </summary>
/// <remarks>
/// Every node runs it; the base's mark row is locked for the pass, so passes of two nodes (or one
/// of retention's) take turns, and the later one finds little or nothing left to fold. A pass never
/// holds the tick lock: it folds ticks already committed, up to the newest its snapshot sees.
/// </remarks>
public sealed partial class StateBaseUpkeep(
    NpgsqlDataSource dataSource,
    IOptions<StateBaseOptions> options,
    TimeProvider timeProvider,
    ILogger<StateBaseUpkeep> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.BaseInterval;
        if (interval <= TimeSpan.Zero) return;
        while (!stoppingToken.IsCancellationRequested)
        {
            try { await Task.Delay(interval, timeProvider, stoppingToken); }
            catch (OperationCanceledException) { break; }
            try
            {
                await AdvanceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(e);
            }
        }
    }

    /// <summary>At most this many ticks are folded into the base per transaction.</summary>
    /// <remarks>
    /// A pass after minutes of heavy writing of new entities has a row to write per event (80,000
    /// events a minute at 20 ms ticks under load): one transaction for all of them would be one burst
    /// of WAL, and of locks held, that long. Steps keep each to about what a retention pass folds.
    /// </remarks>
    public const int TicksPerStep = 1000;

    /// <summary>Folds every tick up to the newest (as of the call) into the base; returns the base's mark after it.</summary>
    public async Task<long> AdvanceAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var (newest, mark) = await connection.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT (SELECT coalesce(max(tick_id), 0) FROM eventhub_tick), (SELECT through_tick FROM eventhub_state_base_mark)",
            cancellationToken: cancellationToken));
        while (mark < newest)
        {
            await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken);
            await connection.ExecuteAsync(new CommandDefinition("SELECT eventhub_advance_state_base(@through)",
                new { through = Math.Min(newest, mark + TicksPerStep) }, tx, commandTimeout: 0, cancellationToken: cancellationToken));
            // Another node's pass (or retention) may have gone further meanwhile.
            mark = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT through_tick FROM eventhub_state_base_mark", transaction: tx, cancellationToken: cancellationToken));
            await tx.CommitAsync(cancellationToken);
        }
        return mark;
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "The live state's base could not be brought up to date; retrying at the next interval")]
    private partial void LogFailed(Exception exception);
}
