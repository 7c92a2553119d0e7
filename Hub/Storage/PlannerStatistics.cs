using System.Diagnostics;
using Dapper;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// Gives the hub's tables planner statistics where they have none, at start-up after the
/// migrations: <c>ANALYZE</c> of every non-empty table of the hub (<c>change_log</c> and the
/// <c>eventhub_</c> tables) without a row in <c>pg_stats</c>.
/// </summary>
/// <remarks>
/// Without statistics the planner falls back to default selectivities (an xid matches 1/200 of the
/// table, a range a third of it), and on a log of 20,000 rows every read with no project filter
/// (the tail's on a node that does not tick, catch-ups, the window load) and the metrics' lag
/// count planned a Seq Scan of change_log, the lag count a Sort of the rest of the log too: 5-25 ms
/// a read there, growing with the log (UnanalyzedLogPlanTests). Autovacuum analyzes a new table
/// within its naptime, but not one whose statistics are gone while its rows stayed: pg_upgrade
/// (before PostgreSQL 18) carries no statistics over and starts the change counters autovacuum
/// goes by from zero, so a large log would go without statistics until a tenth of it had changed,
/// every catch-up reading all of it. ANALYZE samples 30,000 rows whatever the table's size (the
/// default statistics target), so this costs a start at most a second or two, once (787 ms for a
/// 1,000,000-row, 259 MB log with a cold cache, lab). Without the
/// right to analyze a table (only its owner may), PostgreSQL skips it with a warning; the hub
/// starts anyway.
/// </remarks>
public sealed partial class PlannerStatistics(NpgsqlDataSource dataSource, ILogger<PlannerStatistics> logger)
{
    private const string MissingSql = """
        SELECT quote_ident(c.relname)
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
          AND (c.relname = 'change_log' OR c.relname LIKE 'eventhub\_%') AND c.relname <> 'eventhub_schema_migrations'
          AND pg_relation_size(c.oid) > 0
          AND NOT EXISTS (SELECT 1 FROM pg_stats s WHERE s.schemaname = current_schema() AND s.tablename = c.relname)
        ORDER BY c.relname
        """;

    /// <summary>Analyzes the hub's non-empty tables that have no statistics.</summary>
    public async Task AnalyzeWhereMissingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var tables = (await connection.QueryAsync<string>(new CommandDefinition(MissingSql, cancellationToken: cancellationToken))).ToList();
        foreach (var table in tables)
        {
            var start = Stopwatch.GetTimestamp();
            await connection.ExecuteAsync(new CommandDefinition($"ANALYZE {table}", commandTimeout: 300, cancellationToken: cancellationToken));
            LogAnalyzed(table, Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    [LoggerMessage(EventId = 1003, Level = LogLevel.Information,
        Message = "Analyzed {Table}: it had rows but no planner statistics ({ElapsedMs:F0} ms)")]
    private partial void LogAnalyzed(string table, double elapsedMs);
}
