namespace EventHub.Operations;

/// <summary>
/// The management listener (section <c>Management</c>): where operators scrape <c>/metrics</c>.
/// </summary>
public sealed class ManagementOptions
{
    public const string Section = "Management";

    /// <summary>
    /// Listen URLs of the management port, separated by ';' (for example
    /// <c>http://127.0.0.1:9464</c>), each with an explicit port that no public URL uses.
    /// Default: none, and then <c>/metrics</c> is not served at all (docs/deploy.md says why).
    /// </summary>
    public string? Urls { get; set; }
}
