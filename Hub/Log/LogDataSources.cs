using Npgsql;

namespace EventHub.Log;

/// <summary>
/// The hub's connection pools. The shared pool (the unkeyed <see cref="NpgsqlDataSource"/>)
/// serves stream opens, head offsets, retention and the rest; catch-up reads have a pool of their
/// own carved out of it (key <see cref="CatchUpPages"/>); the tail has a small pool of its own
/// (key <see cref="Tail"/>), for its reads, the LISTEN connection of the wake-up and the ticker
/// (which always ticks on the primary, so it uses the primary's tail pool).
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

    /// <summary>The tail pool's command timeout, seconds, unless the connection string sets one.</summary>
    public const int TailCommandTimeoutSeconds = 10;

    public static NpgsqlDataSource BuildTail(string connectionString, string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.MaxPoolSize = TailPoolSize;
        // Kept open once opened, like the catch-up reads' (see SplitForCatchUps): on the ticking node
        // the tail's read session sits idle between reads (a tick above Ticker:HandOffRows), and a
        // new one reads its first ticks through a new backend, on the live path.
        builder.MinPoolSize = builder.Pooling ? TailPoolSize : Math.Min(builder.MinPoolSize, TailPoolSize);
        // The tail's reads are short and bounded (a page of Stream:TailBatchSize rows, the window's
        // load at start-up): one that has not answered in this long is on a session the network
        // lost without a reset, and a node that does not tick delivered nothing until Npgsql's 30 s
        // command timeout gave it up (SilentConnectionLossTests). The ticker's rounds have their
        // own bound (Ticker:RoundTimeout), the LISTEN connection its idle check.
        if (!Storage.HubDataSources.Gives(connectionString, "Command Timeout", "CommandTimeout")) builder.CommandTimeout = TailCommandTimeoutSeconds;
        // Told apart from the shared pool in pg_stat_activity.
        builder.ApplicationName = $"{builder.ApplicationName ?? "EventHub"} tail";
        return Storage.HubDataSources.Create(builder.ConnectionString, name); // jit=off too
    }

    /// <summary>The catch-up reads' pool (see <see cref="SplitForCatchUps"/>).</summary>
    public const string CatchUpPages = "catch-up-pages";

    /// <summary>
    /// Splits the pool catch-ups read from in two: <paramref name="catchUps"/> connections
    /// (<c>Limits:MaxConcurrentCatchUps</c>) for the catch-up reads' pages, the rest of
    /// <c>Maximum Pool Size</c> for everything else, so the hub's connections stay within the
    /// configured size.
    /// </summary>
    /// <remarks>
    /// Why a pool of their own: Npgsql hands out idle connections first in, first out, and a burst
    /// of stream opens (hundreds of clients reconnecting) leaves dozens of idle sessions in the
    /// shared pool. A catch-up's pages then went round all of them, each session with cold caches
    /// and its own copy of the prepared page read, planned with its values five times before the
    /// generic plan: after 100 SSE subscribers had come and gone, a 1,000,000-event catch-up took
    /// 5.4-5.9 CPU-s of the database instead of 4.3-4.4 and ran at 104,000-136,000 instead of
    /// 148,000-166,000 events/s (lab). The catch-up reads are bounded (<see cref="BoundedCatchUpReader"/>),
    /// so a pool of that size never makes one wait, and its few sessions stay warm.
    /// They also stay open (the pool's minimum is its size): Npgsql closes a session idle for
    /// <c>Connection Idle Lifetime</c> (5 minutes) down to the minimum, and a new session reads a
    /// catch-up 2.5 times slower than one that has read before, mostly the database's page
    /// faults as the new backend maps each shared buffer it touches for the first time: a
    /// 50,000-event catch-up of one project of twenty, in the same warm hub, took 0.48-0.61 s on a
    /// new session against 0.20-0.25 s on a kept one (lab, 1,300,000-row log; docs/deploy.md
    /// "Huge pages"; <c>KeptSessionsTests</c>).
    /// Without pooling both are the connection string as given.
    /// </remarks>
    public static (string Shared, string Pages) SplitForCatchUps(string connectionString, int catchUps)
    {
        var shared = new NpgsqlConnectionStringBuilder(connectionString);
        if (!shared.Pooling) return (connectionString, connectionString);
        var pages = new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxPoolSize = catchUps,
            MinPoolSize = catchUps, // opened as catch-ups need them, then kept (see above)
            ApplicationName = $"{shared.ApplicationName ?? "EventHub"} catch-up",
        };
        shared.MaxPoolSize = Math.Max(1, shared.MaxPoolSize - catchUps);
        shared.MinPoolSize = Math.Min(shared.MinPoolSize, shared.MaxPoolSize);
        return (shared.ConnectionString, pages.ConnectionString);
    }

    /// <summary>The shared pool's size as configured (Npgsql's default: 100).</summary>
    public static int SharedPoolSize(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return builder.Pooling ? builder.MaxPoolSize : int.MaxValue;
    }
}
