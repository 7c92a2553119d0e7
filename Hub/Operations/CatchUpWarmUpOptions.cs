namespace EventHub.Operations;

/// <summary>The catch-up warm-up at start-up (section <c>CatchUpWarmUp</c>; <see cref="CatchUpWarmUp"/>).</summary>
public sealed class CatchUpWarmUpOptions
{
    public const string Section = "CatchUpWarmUp";

    /// <summary>How many of the log's oldest events to read once the tail is ready (0: none).</summary>
    public int Events { get; set; } = 20_000;

    /// <summary>
    /// The warm-up also stops once the events read carry this many payload bytes (jsonb text): on
    /// a log of large payloads 20,000 events are hundreds of MB or more, and held <c>/readyz</c>
    /// back for seconds (10 KB payloads: ready 6.2 s after start, 3.7-4.7 s with this bound;
    /// bench/results/2026-12-06-window-bytes.md), or until <see cref="Timeout"/>. The contract's
    /// payloads make 20,000 events a few MB, so the count binds first.
    /// </summary>
    public long PayloadBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>
    /// How long the warm-up may take before it gives up (its reads are cancelled). The hub reports
    /// ready (<c>/readyz</c>) only once the warm-up has ended, so this also bounds how much later.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
