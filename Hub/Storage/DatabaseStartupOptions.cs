namespace EventHub.Storage;

/// <summary>How the hub meets its database at start-up (section <c>Database</c>).</summary>
public sealed class DatabaseStartupOptions
{
    public const string Section = "Database";

    /// <summary>
    /// How long start-up keeps trying a database it cannot reach (connection refused, a host name
    /// not yet resolvable, a server starting up or shutting down, too many connections) before the
    /// hub gives up with a one-line error: a hub started with its database (Compose, Kubernetes)
    /// often comes up first. Errors that waiting cannot mend (a wrong password, a missing database)
    /// end the start at once. Zero: one attempt.
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromSeconds(60);
}
