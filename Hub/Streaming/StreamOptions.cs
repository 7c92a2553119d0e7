namespace EventHub.Streaming;

/// <summary>Settings of the tail and of every stream (section <c>Stream</c>). Defaults are the values below.</summary>
public sealed class StreamOptions
{
    public const string Section = "Stream";

    /// <summary>Fallback poll when no tick is announced (lost notifications, a dropped LISTEN connection).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Poll delay of the tail while a tick has been announced that its reads do not see yet (it
    /// reads a standby that has not replayed the tick).
    /// </summary>
    public TimeSpan HeldBackPollDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// With <c>ConnectionStrings:EventHubReplica</c>: the tail reads the standby too (it is still
    /// woken by the ticker's NOTIFY on the primary, or by polling). Catch-up reads always go to the replica.
    /// </summary>
    public bool TailReadsFromReplica { get; set; }

    /// <summary>Rows per tail read.</summary>
    public int TailBatchSize { get; set; } = 1000;

    /// <summary>
    /// The most payload bytes a tail read holds (past its first row): a read takes fewer than
    /// <see cref="TailBatchSize"/> rows when the payloads of the last batch published average more
    /// than this divided by that (4 KB by default), and stops at this bound whatever its rows'
    /// sizes, so a burst of large payloads is published a few megabytes at a time instead of a
    /// thousand rows at once. With the contract's payloads the row count binds.
    /// </summary>
    public long TailBatchPayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Rows per catch-up read; a catch-up holds at most two such pages in memory (the one being
    /// written out and the next, read meanwhile). Each read is planned afresh (0.4-3 ms), so larger
    /// pages catch up faster: one SSE client over a 1,000,000-event log, paired runs: 1,000 against
    /// 500 gave 101,906 vs 96,176 and 118,057 vs 94,902 events/s (and 50,855 vs 47,683, 70,305 vs
    /// 42,311 in a slow hour), 2,000 against 500 121,000-134,000 vs 87,000-92,000
    /// (bench/results/2026-12-03-catchup-pages.md). Not 2,000: a
    /// read of three projects then costs more than jit_above_cost, and on a 20,000-row log of
    /// 100-row ticks the planner sorted the rest of the log for a page of all projects
    /// (LargeLogPlanTests and UnanalyzedLogPlanTests check the default).
    /// </summary>
    public int CatchUpBatchSize { get; set; } = 1000;

    /// <summary>
    /// The most payload bytes a catch-up page holds (past its first row): a page takes fewer than
    /// <see cref="CatchUpBatchSize"/> rows when the payloads of the last page read (at first, the
    /// recent-events window's) average more than this divided by that (4 KB by default), at least
    /// one row, and stops at this bound whatever its rows' sizes. With the contract's payloads (a
    /// few hundred bytes) the row count binds.
    /// </summary>
    public long CatchUpPagePayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Live events buffered per stream. When a stream's buffer is full, it stops taking live
    /// events and, once its consumer has drained the buffer, catches up from the log instead:
    /// memory stays bounded and nothing is lost (docs/design.md, "Slow consumers").
    /// </summary>
    public int SubscriberBufferCapacity { get; set; } = 1024;

    /// <summary>
    /// The most payload bytes a stream's live buffer holds past its first event: a stream whose
    /// buffered events come to more catches up from the log (or the window) like one whose buffer
    /// is full, so a slow reader of large payloads does not hold <see cref="SubscriberBufferCapacity"/>
    /// of them. With the contract's payloads the count binds.
    /// </summary>
    public long SubscriberBufferPayloadBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Recent events kept in memory to serve catch-ups that start inside them (reconnect storms).
    /// 0 disables the window.
    /// </summary>
    public int RecentEventsWindowSize { get; set; } = 20_000;

    /// <summary>
    /// The most payload bytes the recent-events window holds (payloads as read, jsonb's text
    /// form), so that large payloads do not make <see cref="RecentEventsWindowSize"/> events
    /// gigabytes: the window drops its oldest events past either bound. An event in memory holds
    /// its payload about twice (its JSON; SignalR's MessagePack form) plus ~0.6-1 KB. The
    /// contract's payloads are a few hundred bytes, so by default the count binds first.
    /// </summary>
    public long RecentEventsWindowPayloadBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>Most projects in one request.</summary>
    public int MaxProjects { get; set; } = 100;

    /// <summary>Most types (exact or prefix) in one request.</summary>
    public int MaxTypes { get; set; } = 50;

    /// <summary>Longest project id accepted.</summary>
    public int MaxProjectIdLength { get; set; } = 128;

    /// <summary>Longest event type (or prefix pattern) accepted.</summary>
    public int MaxTypeLength { get; set; } = 64;
}
