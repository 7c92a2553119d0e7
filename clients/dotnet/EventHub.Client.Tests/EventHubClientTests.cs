using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>End to end: the client against the real hub on a loopback port and a real PostgreSQL.</summary>
public sealed partial class EventHubClientTests(ClientHubFixture fixture) : IClassFixture<ClientHubFixture>
{
    /// <summary>Fast and bounded: tests reconnect within milliseconds, never wait seconds.</summary>
    private static readonly ExponentialBackoffPolicy FastPolicy = new()
    {
        InitialDelay = TimeSpan.FromMilliseconds(20),
        MaxDelay = TimeSpan.FromMilliseconds(200),
        MaxElapsed = TimeSpan.FromSeconds(30),
    };

    private SourceWriter Writer => fixture.Db.Writer;

    private EventHubClient NewClient(string project, EventHubProtocol protocol = EventHubProtocol.Json, string? after = "0",
        Uri? hub = null, IEventHubReconnectPolicy? policy = null) =>
        new(new EventHubClientOptions
        {
            HubUrl = hub ?? fixture.Hub.BaseAddress,
            Projects = [project],
            // The project is new, so "0" is exactly what this test writes, and nothing races the stream's start.
            StartAfter = after,
            Protocol = protocol,
            ReconnectPolicy = policy ?? FastPolicy,
        });
}
