using System.Diagnostics.Metrics;

namespace EventHub.Operations;

/// <summary>
/// Meters under names no exporter of the hub listens to (<see cref="Prefix"/> + the name asked for),
/// for the live warm-up's private server and streams: their requests, connections and deliveries
/// would otherwise count in the hub's <c>/metrics</c>, since a listener finds meters by name,
/// whichever factory made them. Disposing the factory disposes its meters.
/// </summary>
internal sealed class WarmUpMeterFactory : IMeterFactory
{
    public const string Prefix = "EventHub.WarmUp.";

    private readonly Lock _gate = new();
    private readonly List<Meter> _meters = [];

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(new MeterOptions(Prefix + options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_gate) _meters.Add(meter);
        return meter;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var meter in _meters) meter.Dispose();
            _meters.Clear();
        }
    }
}
