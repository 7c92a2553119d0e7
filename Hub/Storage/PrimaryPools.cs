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
/// read that wait (<c>SilentConnectionLossTests</c>). Sessions in use are closed when returned.
/// </remarks>
public sealed class PrimaryPools(IReadOnlyList<NpgsqlDataSource> pools)
{
    /// <summary>Drops the idle sessions of every pool on the primary.</summary>
    public void Clear()
    {
        foreach (var pool in pools) pool.Clear();
    }
}
