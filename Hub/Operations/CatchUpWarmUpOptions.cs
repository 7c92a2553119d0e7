namespace EventHub.Operations;

/// <summary>The catch-up warm-up at start-up (section <c>CatchUpWarmUp</c>; <see cref="CatchUpWarmUp"/>).</summary>
public sealed class CatchUpWarmUpOptions
{
    public const string Section = "CatchUpWarmUp";

    /// <summary>How many of the log's oldest events to read once the tail is ready (0: none).</summary>
    public int Events { get; set; } = 20_000;

    /// <summary>
    /// The warm-up also stops once the events read carry this many payload bytes (jsonb text): on
    /// a log of large payloads, 20,000 events are gigabytes and would hold <c>/readyz</c> back
    /// until <see cref="Timeout"/>, for code that a few thousand events warm as well. The
    /// contract's payloads make 20,000 events a few MB, so the count binds first.
    /// </summary>
    public long PayloadBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// How long the warm-up may take before it gives up (its reads are cancelled). The hub reports
    /// ready (<c>/readyz</c>) only once the warm-up has ended, so this also bounds how much later.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
