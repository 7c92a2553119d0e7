namespace EventHub.Log;

/// <summary>Settings of the ticker (section <c>Ticker</c>): how often the leader looks for new commits.</summary>
public sealed class TickerOptions
{
    public const string Section = "Ticker";

    /// <summary>Whether this node takes part in ticking (one node ticks at a time, by lease).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Time from the start of one of the leader's looks to the next while events are flowing. It
    /// bounds the delay a commit waits for its tick (mean about half of it plus a round trip);
    /// each look is one short statement (~0.03 ms of the database's CPU, read-only unless it
    /// ticks). Fractions of a millisecond are honoured (<see cref="ShortSleep"/>). 0.5 ms: at 100
    /// events/s about 1,500 looks a second, commit to tick p50 0.8 ms, against 850 looks and
    /// 1.1 ms at 1 ms (docs/performance.md, "The hub's CPU").
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(0.5);

    /// <summary>
    /// While the log grows faster than this (events per second, smoothed), the leader pauses
    /// <see cref="BusyInterval"/> between looks instead of <see cref="Interval"/>: fewer, larger
    /// ticks, so ticking takes less of the database from the writers (<see cref="TickPacing"/>).
    /// 0 turns it off.
    /// </summary>
    public double BusyRate { get; set; } = 1000;

    /// <summary>
    /// The pause between looks while the log grows faster than <see cref="BusyRate"/>: events then
    /// wait up to this long for their tick. Each tick costs the database a statement and a durable
    /// commit, and the hub a round trip and its threads' wake-ups, whatever its size: 50 ms against
    /// 20 ms took 11-14 µs of CPU per insert less from the writers' 2 cores (the ticker's session
    /// 20 against 26-28, the hub process 13-14 against 19-20 µs) and the write cost from 34.8 to
    /// 24.8 % and from 27.0 to 21.4 % in two runs (bench/results/2026-12-04-busy-50.md); a third,
    /// with migration 0018 against the build before both, 29.0 to 28.2 % (2026-12-04-session-final.md).
    /// </summary>
    public TimeSpan BusyInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// The longest pause between looks when no event comes (<see cref="QuietShare"/>, and after
    /// <see cref="IdleAfter"/>): an idle hub costs ~20 looks a second.
    /// </summary>
    public TimeSpan IdleInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long without a tick before the pause doubles up to <see cref="IdleInterval"/> (if <see cref="QuietShare"/> has not made it that long already).</summary>
    public TimeSpan IdleAfter { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Between ticks the pause between looks is this share of the time since the last tick, never
    /// shorter than <see cref="Interval"/> nor longer than <see cref="IdleInterval"/>: an event
    /// after a quiet spell waits at most this share of it for its look. 0.05 (a twentieth): 0.5 ms
    /// after 10 ms of quiet, 5 ms after 100 ms, 50 ms after a second, so at 100 events/s and faster
    /// nothing changes. Looking every Interval whatever the quiet cost a log of one event a second
    /// what it costs one of a hundred, ~2,000 looks a second: at 1.4 events/s 30 % of a core in the
    /// hub and 24 % in PostgreSQL, against 6 and 3 % with 0.05; the price is latency at low rates
    /// (100 SSE subscribers: p50 16 against 3.4 ms at 2 events/s, 5.0 against 2.4 ms at 10/s;
    /// bench/results/2026-12-06-quiet-looks.md). 0: every Interval until <see cref="IdleAfter"/>.
    /// </summary>
    public double QuietShare { get; set; } = 0.05;

    /// <summary>
    /// The leader's lease, on the database clock. A node that dies stops ticking; another takes over
    /// once the lease has expired (within <see cref="Lease"/> plus <see cref="FollowerInterval"/>).
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A new tick of at most this many rows comes back with the tick and this node's tail publishes
    /// it without reading it (larger ones are read like any batch).
    /// </summary>
    public int HandOffRows { get; set; } = 1000;

    /// <summary>
    /// A new tick whose payloads come to more than this many bytes is not handed over either: the
    /// tick function does not gather it (payloads as stored, migration 0023: gathering a tick of
    /// 1,000 rows of 1 MB outlasted <see cref="RoundTimeout"/> on every try, and no tick was made
    /// again), the ticker lets go the rows of one whose payloads pass it as read, and this node's
    /// tail reads the tick in pages bounded by <c>Stream:TailBatchPayloadBytes</c>, so a tick of
    /// large payloads is never held whole. With the contract's payloads (a few hundred bytes)
    /// <see cref="HandOffRows"/> binds.
    /// </summary>
    public long HandOffPayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long the leader's round may wait inside the database for a commit, looking every
    /// <see cref="Interval"/> (migration 0012), before it comes back empty; 0 (the default): a
    /// round trip per look. Looks in the database need no round trip: while events trickle in, the
    /// leader makes about one round trip per tick instead of one per <see cref="Interval"/>, and the
    /// hub uses about a third of the CPU (bench, 100 SSE subscribers x 100 events/s: 2.0-2.4
    /// against 5.4-5.9 CPU-s per 10 s) for ~0.5 ms more p50 (2.9-3.2 against 2.4-2.7 ms; three
    /// paired runs, docs/performance.md "Looks inside the database"). A stream from now on the
    /// leader waits for the round in flight, so this also bounds what such an open waits. At most
    /// a quarter of <see cref="Lease"/> (a round renews the lease when it ends); 00:00:00.010 is a
    /// good value.
    /// </summary>
    public TimeSpan WaitInDatabase { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long one of the ticker's rounds may take, on top of <see cref="WaitInDatabase"/>, before
    /// the ticker gives its session up and goes on with a new one. A round is one short statement
    /// of bounded work (milliseconds); one that does not answer for seconds is on a session the
    /// network lost without a reset (a failover that left the old server unreachable, a
    /// firewall's or NAT's dropped state), and every event of every client waited for it: Npgsql's
    /// command timeout, 30 s (<c>SilentConnectionLossTests</c>). Whole seconds (Npgsql's unit), at
    /// least 1; after it Npgsql cancels the statement and waits its <c>Cancellation Timeout</c>
    /// (2 s) before it drops the session.
    /// </summary>
    public TimeSpan RoundTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a node that is not the leader checks whether the lease has expired.</summary>
    public TimeSpan FollowerInterval { get; set; } = TimeSpan.FromMilliseconds(250);
}
