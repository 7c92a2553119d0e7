using Npgsql;

namespace EventHub.Storage;

/// <summary>Builds the data sources the hub opens its own sessions from (primary, replica).</summary>
public static class HubDataSources
{
    /// <summary>
    /// A data source whose sessions run with <c>jit=off</c>. The hub's queries are short, index-bound
    /// reads; when the planner misestimates one (a never-analyzed one-row bookkeeping table made the
    /// tail's join look like 446,600 rows) its cost crosses <c>jit_above_cost</c> and every read
    /// pays ~90 ms of LLVM compilation for a 4 ms query. It is a startup option rather than a SET,
    /// so the pool's reset of a returned session (DISCARD ALL) comes back to it, not to the
    /// server's default. A <c>jit</c> the connection string's Options already sets is kept.
    /// </summary>
    /// <remarks>
    /// Bitmap scans are off too (<c>enable_bitmapscan=off</c>): every read of the log wants rows in
    /// index order up to a LIMIT, and when the planner expects few rows per tick it prefers a bitmap
    /// scan plus a sort, which reads and sorts the whole of a tick for every page (fine for a tick
    /// of 50 rows, ruinous for the first tick of a migrated log with 500,000). LargeLogPlanTests
    /// checks the plans.
    /// </remarks>
    public static NpgsqlDataSource Create(string connectionString, string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        foreach (var setting in new[] { "jit=off", "enable_bitmapscan=off" })
        {
            var key = setting[..(setting.IndexOf('=') + 1)];
            if (builder.Options?.Contains(key, StringComparison.OrdinalIgnoreCase) != true)
                builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? $"-c {setting}" : $"{builder.Options} -c {setting}";
        }
        return new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = name }.Build();
    }
}
