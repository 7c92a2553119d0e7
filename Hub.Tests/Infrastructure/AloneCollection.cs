namespace EventHub.Tests.Infrastructure;

/// <summary>
/// Tests that load the machine (hundreds of streams, tens of megabytes) and state a latency or a
/// memory bound: they run after the parallel tests, one at a time, so that neither they nor the
/// tests beside them measure the other's load. Also tests that read the hub's metrics, which are
/// collected process-wide (every hub alive in the process answers a scrape).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone";
}
