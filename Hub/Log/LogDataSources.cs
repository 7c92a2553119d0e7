using Npgsql;

namespace EventHub.Log;

/// <summary>
/// The hub's connection pools. The shared pool (the unkeyed <see cref="NpgsqlDataSource"/>)
/// serves catch-ups, stream opens, head offsets, retention and the rest; the tail has a small
/// pool of its own (key <see cref="Tail"/>), for its reads, the LISTEN connection of the wake-up and
/// the ticker (which always ticks on the primary, so it uses the primary's tail pool).
/// </summary>
/// <remarks>
/// Why the tail has its own: live delivery to every client is one reader, the tail. Sharing the
/// pool, it queued for a connection behind every catch-up query in flight, so a burst of
/// catch-ups from one client (500 streams with <c>after=0</c>) stalled live events for all
/// clients for seconds. With its own pool it never waits for a connection.
/// </remarks>
public static class LogDataSources
{
    public const string Tail = "tail";

    /// <summary>The tail's pool on the replica, with <c>Stream:TailReadsFromReplica</c>.</summary>
    public const string ReplicaTail = "replica-tail";

    /// <summary>
    /// The tail's pool: the LISTEN connection and the ticker's (held for good), the tail's read
    /// (one at a time) and one spare for a reconnect while a broken connection is being disposed.
    /// </summary>
    public const int TailPoolSize = 4;

    public static NpgsqlDataSource BuildTail(string connectionString, string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = TailPoolSize;
        builder.MinPoolSize = Math.Min(builder.MinPoolSize, TailPoolSize);
        // Told apart from the shared pool in pg_stat_activity.
        builder.ApplicationName = $"{builder.ApplicationName ?? "EventHub"} tail";
        return Storage.HubDataSources.Create(builder.ConnectionString, name); // jit=off too
    }

    /// <summary>The shared pool's size as configured (Npgsql's default: 100).</summary>
    public static int SharedPoolSize(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return builder.Pooling ? builder.MaxPoolSize : int.MaxValue;
    }
}
