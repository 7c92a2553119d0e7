using System.Data;
using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// Runs a read on a session of a pool, and once more on a new session when the first turns out to
/// have been closed by the server or the network while it sat in the pool: a database restart or
/// failover, an administrator's <c>pg_terminate_backend</c>, a proxy's idle cut. Npgsql hands out
/// an idle session without checking it, and the catch-up and tail pools keep theirs open on purpose
/// (<see cref="Log.LogDataSources"/>), so a catch-up or a live-state read given a closed one failed
/// ("unavailable", 503) and its client had to come back, once per closed session
/// (<c>ClosedSessionTests</c>). The pool's other idle sessions were most likely closed with it:
/// they are dropped too. For reads that give the same answer when repeated; a database that is down
/// fails the second attempt as well.
/// </summary>
public static class PooledSessions
{
    /// <summary>Runs <paramref name="read"/> on a live session of <paramref name="source"/>.</summary>
    public static async Task<T> RunAsync<T>(NpgsqlDataSource source, Func<NpgsqlConnection, Task<T>> read,
        CancellationToken cancellationToken)
    {
        var (connection, result) = await OpenAsync(source, read, cancellationToken);
        await connection.DisposeAsync();
        return result;
    }

    /// <summary>
    /// Opens a session of <paramref name="source"/> and runs <paramref name="start"/> (the read's
    /// first round trip) on it, on a new session if that one was closed; returns the open session,
    /// which the caller disposes, with what <paramref name="start"/> returned.
    /// </summary>
    public static async Task<(NpgsqlConnection Connection, T Started)> OpenAsync<T>(NpgsqlDataSource source,
        Func<NpgsqlConnection, Task<T>> start, CancellationToken cancellationToken)
    {
        var connection = await source.OpenConnectionAsync(cancellationToken);
        try
        {
            return (connection, await start(connection));
        }
        catch (NpgsqlException) when (connection.State != ConnectionState.Open && !cancellationToken.IsCancellationRequested)
        {
            // The session broke (Npgsql closes a connection whose session it lost; a query error leaves it open).
            await connection.DisposeAsync();
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        source.Clear();
        var fresh = await source.OpenConnectionAsync(cancellationToken);
        try
        {
            return (fresh, await start(fresh));
        }
        catch
        {
            await fresh.DisposeAsync();
            throw;
        }
    }
}
