using Npgsql;

namespace EventHub.Storage;

/// <summary>Builds the data sources the hub opens its own sessions from (primary, replica).</summary>
public static class HubDataSources
{
    /// <summary>The startup options' settings, in order (<see cref="Create"/> says why each).</summary>
    private static readonly string[] SessionSettings =
    [
        "jit=off", "enable_bitmapscan=off", "statement_timeout=0", "idle_session_timeout=0",
        @"default_transaction_isolation=read\ committed", "synchronous_commit=on",
        "tcp_keepalives_idle=30", "tcp_keepalives_interval=10",
    ];

    /// <summary>
    /// The bound, seconds, of a transaction's first statement on the hub's sessions, where that
    /// statement is quick by nature (a try-lock, a SET LOCAL, a SELECT 1). Npgsql sends the
    /// transaction's BEGIN ahead of it and reads that answer without honouring a cancellation
    /// (npgsql/npgsql#5191): on a session the network lost without a reset, the statement waited
    /// for its command timeout (30 s) whatever cancelled it (SilentConnectionLossTests).
    /// </summary>
    public const int TransactionFirstStatementTimeoutSeconds = 5;

    /// <summary>Idle seconds before the first TCP keepalive probe, and seconds between probes.</summary>
    public static readonly (int Time, int Interval) TcpKeepAliveSeconds = (30, 10);

    /// <summary>
    /// The settings every session of the hub starts with, as startup options rather than SETs, so
    /// a session has them from its first statement and a reset (RESET ALL, when the connection
    /// string asks for resets) comes back to them, not to the server's defaults. A setting the
    /// connection string's Options already gives is kept.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>jit=off</c>: the hub's queries are short, index-bound reads; when the planner
    /// misestimates one (a never-analyzed one-row bookkeeping table made the tail's join look like
    /// 446,600 rows) its cost crosses <c>jit_above_cost</c> and every read pays ~90 ms of LLVM
    /// compilation for a 4 ms query.</item>
    /// <item><c>enable_bitmapscan=off</c>: every read of the log wants rows in index order up to a
    /// LIMIT, and when the planner expects few rows per tick it prefers a bitmap scan plus a sort,
    /// which reads and sorts the whole of a tick for every page (fine for a tick of 50 rows, ruinous
    /// for the first tick of a migrated log with 500,000). LargeLogPlanTests checks the plans.</item>
    /// <item><c>statement_timeout=0</c>: a timeout an operator set on the database or role for its
    /// applications' queries would cancel the hub's upkeep whose length is the backlog's, not a
    /// query's: the live state's fold of a large tick, its rebuild, retention's passes, a migration,
    /// ANALYZE at start-up; cancelled at every retry, the state stayed behind a 100,000-row tick for
    /// good (<c>DatabaseDefaultsTests</c>). The hub bounds what needs a bound itself (the ticker's
    /// statement, Npgsql's command timeout on reads).</item>
    /// <item><c>idle_session_timeout=0</c> (PostgreSQL 14; the schema needs 15 for MERGE): the hub
    /// keeps sessions open on purpose while idle (the LISTEN connection, the ticker's, the tail's and
    /// the catch-up reads' pools, <see cref="EventHub.Log.LogDataSources"/>); with a database's
    /// idle_session_timeout the server closed them, the LISTEN connection reconnected every few
    /// seconds and the first catch-up after a quiet spell ended with <c>unavailable</c> (<c>DatabaseDefaultsTests</c>).</item>
    /// <item><c>default_transaction_isolation=read committed</c>: the tick's order rests on it (the
    /// tick function takes its lock, then its snapshot in a later statement, and refuses to tick
    /// under another level rather than store an older snapshot than the tick it waited for). With a
    /// database whose default was REPEATABLE READ every tick failed and no event was delivered
    /// (<c>TickBatchTests</c>).</item>
    /// <item><c>synchronous_commit=on</c>: a tick served before it is durable could be lost in a crash
    /// and re-made with another snapshot, moving offsets clients hold. The ticker's session sets it
    /// itself; a node that does not tick makes its "now" ticks on the shared pool, which committed
    /// asynchronously on a database whose default was <c>off</c>.</item>
    /// <item><c>tcp_keepalives_idle=30</c>, <c>tcp_keepalives_interval=10</c>: the server's own
    /// probes of the hub's connection (the kernel's count, nine on Linux: about two minutes). A
    /// transaction of the hub's whose client the network lost held its locks (retention's, and the
    /// live state's, whose fold every node then waited for) until the server learnt of it: two
    /// hours at the kernel's defaults. Not <c>idle_in_transaction_session_timeout</c>: a state read
    /// whose rows are all sent is idle in its transaction while a slow client receives the last of
    /// them.</item>
    /// </list>
    /// And <c>No Reset On Close</c> (unless the connection string sets it): Npgsql resets a session
    /// the pool gets back by statements it sends ahead of the session's next query (RESET ALL, CLOSE
    /// ALL, UNLISTEN *, ...), and while their answers are pending it does not honour the query's
    /// cancellation: on a session the network had lost without a reset, a cancelled read waited
    /// for its command timeout, 30 s, and a statement with none (the live state's upkeep, retention)
    /// for good, so the hub's stop waited out the host's 30 s (SilentConnectionLossTests). The hub
    /// leaves nothing in a session to reset: its settings are the startup options above (to which
    /// RESET ALL returned anyway), SET LOCAL and advisory locks are the transaction's, and the LISTEN
    /// connection's pool is cleared when that connection fails (PostgresListener).
    /// And TCP keepalive (<see cref="TcpKeepAliveSeconds"/>, unless the connection string sets one of
    /// its keywords): a statement without a client-side timeout (the live state's upkeep, retention)
    /// on a session whose server or path died without a reset waited for an answer for good; the
    /// kernel's probes end it within about two minutes (a minute and a half of probes, Linux's nine).
    /// A proxy or pooler between the hub and its database answers them itself: the ticker, the
    /// LISTEN connection and the tail have their own bounds for that (Ticker:RoundTimeout,
    /// PostgresListener's idle check, the tail pool's command timeout).
    /// </remarks>
    public static NpgsqlDataSource Create(string connectionString, string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!Gives(connectionString, "No Reset On Close", "NoResetOnClose")) builder.NoResetOnClose = true;
        if (!Gives(connectionString, "Tcp Keepalive", "TcpKeepAlive", "Tcp Keepalive Time", "TcpKeepAliveTime", "Tcp Keepalive Interval", "TcpKeepAliveInterval"))
        {
            builder.TcpKeepAliveTime = TcpKeepAliveSeconds.Time;
            builder.TcpKeepAliveInterval = TcpKeepAliveSeconds.Interval;
        }
        foreach (var setting in SessionSettings)
        {
            var key = setting[..(setting.IndexOf('=') + 1)];
            if (builder.Options?.Contains(key, StringComparison.OrdinalIgnoreCase) != true)
                builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? $"-c {setting}" : $"{builder.Options} -c {setting}";
        }
        return new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = name }.Build();
    }

    /// <summary>
    /// Whether <paramref name="connectionString"/> sets one of <paramref name="keywords"/> (its
    /// spellings), whatever the value. Not NpgsqlConnectionStringBuilder.ContainsKey: that answers
    /// for every keyword Npgsql knows.
    /// </summary>
    public static bool Gives(string connectionString, params string[] keywords)
    {
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        return keywords.Any(given.ContainsKey);
    }
}
