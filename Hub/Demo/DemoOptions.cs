namespace EventHub.Demo;

/// <summary>Settings of the demo activity simulator (section <c>Demo</c>; <c>--demo</c> enables it).</summary>
public sealed class DemoOptions
{
    public const string Section = "Demo";

    public bool Enabled { get; set; }

    /// <summary>Mean pause between two simulated changes.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(700);

    /// <summary>Projects the simulator writes into.</summary>
    public string[] Projects { get; set; } = ["ao", "webapp", "infra"];
}
