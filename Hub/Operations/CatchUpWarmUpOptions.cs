namespace EventHub.Operations;

/// <summary>The catch-up warm-up at start-up (section <c>CatchUpWarmUp</c>; <see cref="CatchUpWarmUp"/>).</summary>
public sealed class CatchUpWarmUpOptions
{
    public const string Section = "CatchUpWarmUp";

    /// <summary>How many of the log's oldest events to read once the tail is ready (0: none).</summary>
    public int Events { get; set; } = 20_000;
}
