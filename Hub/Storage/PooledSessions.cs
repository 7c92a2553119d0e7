using System.Data;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// Runs a read on a session of a pool, and again on another session when the first turns out to
/// have been closed by the server or the network while it sat in the pool: a database restart or
/// failover, an administrator's <c>pg_terminate_backend</c>, a proxy's idle cut. Npgsql hands out
/// an idle session without checking it, and the catch-up and tail pools keep theirs open on purpose
/// (<see cref="Log.LogDataSources"/>), so a catch-up or a live-state read given a closed one failed
/// ("unavailable", 503) and its client had to come back, once per closed session
/// (<c>ClosedSessionTests</c>). The pool's other idle sessions were most likely closed with it:
/// they are dropped too. Likewise when the hub finds the primary's sessions lost while the read
/// waits (<see cref="PrimaryPools.SessionsLost"/>, <c>SilentConnectionLossTests</c>). For reads
/// that give the same answer when repeated; a database that is down fails a new session's attempt as well.
/// </summary>
public static class PooledSessions
{
    /// <summary>
    /// Runs <paramref name="read"/> on a live session of <paramref name="source"/>, with the token
    /// it is to use; <paramref name="sessionsLost"/> (<see cref="PrimaryPools.SessionsLostOf"/>)
    /// cancels that token too, and the read then runs again on a new session.
    /// </summary>
    public static async Task<T> RunAsync<T>(NpgsqlDataSource source, Func<NpgsqlConnection, CancellationToken, Task<T>> read,
        CancellationToken cancellationToken, CancellationToken sessionsLost = default)
    {
        var (connection, result) = await OpenAsync(source, read, cancellationToken, sessionsLost);
        await connection.DisposeAsync();
        return result;
    }

    /// <summary>
    /// Opens a session of <paramref name="source"/> and runs <paramref name="start"/> (the read's
    /// first round trip) on it, on a new session if that one was closed or found lost; returns the
    /// open session, which the caller disposes, with what <paramref name="start"/> returned.
    /// </summary>
    public static async Task<(NpgsqlConnection Connection, T Started)> OpenAsync<T>(NpgsqlDataSource source,
        Func<NpgsqlConnection, CancellationToken, Task<T>> start, CancellationToken cancellationToken,
        CancellationToken sessionsLost = default)
    {
        // Again on another session until one answers. Npgsql skips a Clear while another runs:
        // when several reads find their sessions closed at the same moment, a read whose Clear was
        // skipped takes its next session from those the running Clear has not yet closed, another
        // closed one (57P01 on the second session; PooledSessionsTests, ClosedSessionTests). Each
        // such session is closed once it fails, so a pool hands out at most its size of them
        // before the next is new: a new session that fails as well means the database does.
        int? attempts = null; // read on the first failure only
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1) source.Clear();
            var connection = await source.OpenConnectionAsync(cancellationToken);
            // Only the first attempt gives up on a loss found meanwhile: later ones run on sessions
            // opened after the pools were cleared.
            using var either = attempt == 1 && sessionsLost.CanBeCanceled
                ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, sessionsLost) : null;
            try
            {
                return (connection, await start(connection, either?.Token ?? cancellationToken));
            }
            catch (NpgsqlException) when (connection.State != ConnectionState.Open && !cancellationToken.IsCancellationRequested
                && attempt < (attempts ??= MaxSessionsHandedOut(source) + 1))
            {
                // The session broke (Npgsql closes a connection whose session it lost; a query error leaves it open).
                await connection.DisposeAsync();
            }
            catch (Exception) when (either is not null && sessionsLost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // Given up because the hub found its sessions lost (the pools are cleared already):
                // Npgsql's cancellation broke it, or the server cancelled the statement.
                await connection.DisposeAsync();
            }
            catch
            {
                await connection.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>How many sessions opened before now <paramref name="source"/> can hand out: its pool's size, or the first attempt's own session.</summary>
    private static int MaxSessionsHandedOut(NpgsqlDataSource source)
    {
        var settings = new NpgsqlConnectionStringBuilder(source.ConnectionString);
        return settings.Pooling ? settings.MaxPoolSize : 1;
    }
}
