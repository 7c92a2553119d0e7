using Npgsql;

namespace EventHub.Storage;

/// <summary>
/// The hub's pools of sessions on the primary: the shared pool, the tail's, and the catch-up
/// reads' when they read the primary (<see cref="Log.LogDataSources"/>).
/// </summary>
/// <remarks>
/// When the ticker or the LISTEN connection finds its session lost (closed, or silent past its
/// bound: <c>Ticker:RoundTimeout</c>, <see cref="PostgresListener"/>'s idle check), the sessions
/// idle in every pool most likely went with it: a restart, a failover, a path that died. Npgsql
/// hands out an idle session without checking it, and a catch-up or state read given one that the
/// network lost without a reset waited for its command timeout (30 s) before its retry on a new
/// session (<see cref="PooledSessions"/>); dropping them all at the first sign spares every later
/// read that wait (<c>SilentConnectionLossTests</c>). Sessions in use are closed when returned,
/// and the reads in flight on them are told (<see cref="SessionsLost"/>).
/// </remarks>
public sealed class PrimaryPools(IReadOnlyList<NpgsqlDataSource> pools)
{
    private CancellationTokenSource _lost = new();

    /// <summary>
    /// Cancelled at the next <see cref="Clear"/>: a read that links it gives its session up then
    /// and reads again on a new one (<see cref="PooledSessions"/>). Race guarded: a read that
    /// began on a session the network had lost waited for its command timeout (the tail's 10 s,
    /// none for the live state's upkeep) although the hub knew; the tick a lost round of the
    /// ticker had made, unheard, reached clients only when the tail's read gave up (12-13 s).
    /// Taken when the read opens its session: one opened after a Clear is not lost by it.
    /// </summary>
    public CancellationToken SessionsLost => Volatile.Read(ref _lost).Token;

    /// <summary><see cref="SessionsLost"/> for a read on <paramref name="source"/>; none when it is not a pool on the primary (a replica's).</summary>
    public CancellationToken SessionsLostOf(NpgsqlDataSource source) => pools.Contains(source) ? SessionsLost : CancellationToken.None;

    /// <summary>Drops the idle sessions of every pool on the primary and tells the reads in flight.</summary>
    public void Clear()
    {
        foreach (var pool in pools) pool.Clear();
        // Off the caller's thread (the ticker's, or the LISTEN connection's): each read's
        // cancellation sends a cancel request on a new connection, which may itself wait for an
        // unreachable server.
        _ = Interlocked.Exchange(ref _lost, new CancellationTokenSource()).CancelAsync();
    }
}
