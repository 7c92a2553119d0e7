namespace EventHub.Health;

/// <summary>Settings of <c>/healthz</c> and <c>/readyz</c> (section <c>Health</c>).</summary>
public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>
    /// Longest time without a successful tail read, or with every round of the ticker failing,
    /// before the hub reports not ready.
    /// </summary>
    public TimeSpan MaxTailLag { get; set; } = TimeSpan.FromSeconds(10);
}
