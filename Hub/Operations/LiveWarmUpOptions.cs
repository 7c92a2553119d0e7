namespace EventHub.Operations;

/// <summary>The live-delivery warm-up at start-up (section <c>LiveWarmUp</c>; <see cref="LiveWarmUp"/>).</summary>
public sealed class LiveWarmUpOptions
{
    public const string Section = "LiveWarmUp";

    /// <summary>How long synthetic events flow to the warm-up's streams (0: no warm-up).</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many streams (loopback SSE connections to the warm-up's private server) take them.</summary>
    public int Streams { get; set; } = 16;

    /// <summary>The most streams a warm-up may open.</summary>
    public const int MaxStreams = 1_000;

    /// <summary>
    /// How long the warm-up may take in all before it gives up. The hub reports ready
    /// (<c>/readyz</c>) only once the warm-up has ended, so this also bounds how much later.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
