namespace EventHub.Sse;

/// <summary>Settings of the SSE endpoint (section <c>Sse</c>).</summary>
public sealed class SseOptions
{
    public const string Section = "Sse";

    /// <summary>A comment line is sent after this long without a frame, so proxies keep the connection open.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>retry:</c> hint: how long an EventSource waits before reconnecting.</summary>
    public TimeSpan RetryHint { get; set; } = TimeSpan.FromSeconds(2);
}
