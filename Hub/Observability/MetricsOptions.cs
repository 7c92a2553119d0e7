namespace EventHub.Observability;

/// <summary>What the metrics may say (section <c>Metrics</c>). Where they are served: <c>Management:Urls</c>.</summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    /// <summary>
    /// Whether <c>eventhub_subscribers</c> names projects (the top 20 by name, the rest as
    /// "other"). Default false: project ids are customer names and the scrape is read by more
    /// people and systems than the stream is, so by default the gauge has one label value,
    /// <c>project="project"</c> (streams that name projects, summed per project they name), besides <c>"*"</c>.
    /// </summary>
    public bool ProjectLabels { get; set; }
}
