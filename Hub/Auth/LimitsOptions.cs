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

    /// <summary>
    /// Concurrent connections (SSE streams plus SignalR connections) of one principal (a token's
    /// issuer and subject), whichever of its tokens opened them: a fresh token is not a fresh quota.
    /// Formerly <c>Limits:MaxConnectionsPerToken</c>, which is still read (<see cref="Bind"/>).
    /// </summary>
    public int MaxConnectionsPerPrincipal { get; set; } = 32;

    /// <summary>
    /// Binds <paramref name="section"/> to <paramref name="options"/>, reading the former name
    /// <c>MaxConnectionsPerToken</c> when <c>MaxConnectionsPerPrincipal</c> is not set, so that an
    /// existing configuration keeps its limit.
    /// </summary>
    public static void Bind(IConfiguration section, LimitsOptions options)
    {
        section.Bind(options);
        if (section[nameof(MaxConnectionsPerPrincipal)] is null && section.GetValue<int?>("MaxConnectionsPerToken") is { } former)
            options.MaxConnectionsPerPrincipal = former;
    }

    /// <summary>Concurrent connections (SSE streams plus SignalR connections) from one client address.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 256;

    /// <summary>Largest message the hub accepts from a client (SignalR's MaximumReceiveMessageSize), in bytes.</summary>
    public long MaxHubMessageBytes { get; set; } = 32 * 1024;
}
