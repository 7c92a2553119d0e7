using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Sets up the ticker's session in one round trip: synchronous commits (a tick lost in a crash after
/// hubs had served it would be re-made with another snapshot, and offsets would move), and whether
/// the database is a standby (ticks are made on the primary only).
/// </summary>
public static class TickerSessionSql
{
    public const string Text = "SELECT set_config('synchronous_commit', 'on', false) IS NOT NULL AND pg_is_in_recovery()";

    /// <summary>Throws when the database is a standby. Blocking, for the ticker's thread.</summary>
    public static void Prepare(NpgsqlConnection connection)
    {
        using var command = new NpgsqlCommand(Text, connection);
        if ((bool)command.ExecuteScalar()!)
            throw new InvalidOperationException("The ticker's database is a standby; ticks are made on the primary.");
    }
}
