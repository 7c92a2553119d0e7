using System.Diagnostics.Metrics;

namespace EventHub.Client.Internal;

/// <summary>
/// The client's metrics, on the meter <see cref="MeterName"/> (collect it with OpenTelemetry's
/// <c>AddMeter("EventHub.Client")</c> or a <see cref="MeterListener"/>). Only what an operator
/// must see and a log line may hide: events the hub sent twice.
/// </summary>
internal static class ClientMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "EventHub.Client";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Events dropped because their seq had already been yielded; tagged with the hub endpoint.</summary>
    public static readonly Counter<long> DuplicatesDropped = Meter.CreateCounter<long>(
        "eventhub.client.duplicates_dropped", unit: "{event}",
        description: "Events the hub delivered a second time (same seq), dropped by the client. The hub should send none.");
}
