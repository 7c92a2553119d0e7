namespace EventHub.Auth;

/// <summary>
/// Per-client limits (section <c>Limits</c>). Going past one gets an error naming the setting.
/// Projects and types per request are <c>Stream:MaxProjects</c> and <c>Stream:MaxTypes</c>.
/// </summary>
public sealed class LimitsOptions
{
    public const string Section = "Limits";

    /// <summary>Open streams on one SignalR connection.</summary>
    public int MaxStreamsPerConnection { get; set; } = 16;

    /// <summary>Concurrent connections (SSE streams plus SignalR connections) presenting one token.</summary>
    public int MaxConnectionsPerToken { get; set; } = 32;

    /// <summary>Concurrent connections (SSE streams plus SignalR connections) from one client address.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 256;

    /// <summary>Largest message the hub accepts from a client (SignalR's MaximumReceiveMessageSize), in bytes.</summary>
    public long MaxHubMessageBytes { get; set; } = 32 * 1024;
}
