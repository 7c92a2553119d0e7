namespace EventHub.Log;

/// <summary>
/// Database work of catch-ups (section <c>Limits</c>, beside the per-client limits of
/// <c>Auth/LimitsOptions</c>).
/// </summary>
public sealed class CatchUpLimitsOptions
{
    public const string Section = "Limits";

    /// <summary>
    /// Catch-up reads of the log running at once, over all streams (default 8). More wait their
    /// turn (nobody fails); each holds one connection of the shared pool while it runs, so the
    /// pool must be larger (start-up checks <c>Maximum Pool Size</c> ≥ this + <see cref="PoolReserve"/>).
    /// </summary>
    public int MaxConcurrentCatchUps { get; set; } = 8;

    /// <summary>
    /// Live-state reads (<c>GET /api/v1/state</c>, the hub method <c>GetState</c>) running at once
    /// (default 2). More wait their turn; each holds one connection of the shared pool for the
    /// read (~50 ms for 10,000 entities) and is one of <see cref="PoolReserve"/>'s users.
    /// </summary>
    public int MaxConcurrentStateReads { get; set; } = 2;

    /// <summary>
    /// Bytes of live state all reads together may hold ahead of their clients (default 64 MiB, about
    /// 180,000 entities of the contract's payloads). Past it each read waits for its own client
    /// before it reads on, holding its session meanwhile: clients that ask for large states and
    /// never read them cost this much memory, not a state's size each.
    /// </summary>
    public long StateReadAheadBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Connections of the shared pool kept for what is not a catch-up read: stream opens (epoch,
    /// snapshot, horizon), live-state reads, the head offset computation, the lag sampler, retention,
    /// project notices.
    /// </summary>
    public const int PoolReserve = 4;
}
