namespace EventHub.Operations;

/// <summary>The start-up collection (section <c>StartupCollection</c>; <see cref="StartupCollection"/>).</summary>
public sealed class StartupCollectionOptions
{
    public const string Section = "StartupCollection";

    /// <summary>
    /// Collect once, fully, when the tail is ready (default true). A collection is the whole
    /// process's: a process that hosts several hubs (the test suite, an application embedding the
    /// hub) would pause everything in it at every hub's start, so such a host turns it off.
    /// </summary>
    public bool Enabled { get; set; } = true;
}
