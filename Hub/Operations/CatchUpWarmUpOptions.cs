namespace EventHub.Operations;

/// <summary>The catch-up warm-up at start-up (section <c>CatchUpWarmUp</c>; <see cref="CatchUpWarmUp"/>).</summary>
public sealed class CatchUpWarmUpOptions
{
    public const string Section = "CatchUpWarmUp";

    /// <summary>How many of the log's oldest events to read once the tail is ready (0: none).</summary>
    public int Events { get; set; } = 20_000;

    /// <summary>
    /// How long the warm-up may take before it gives up (its reads are cancelled). The hub reports
    /// ready (<c>/readyz</c>) only once the warm-up has ended, so this also bounds how much later.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
