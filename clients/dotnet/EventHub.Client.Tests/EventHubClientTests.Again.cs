using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Fact]
    public async Task A_later_enumeration_of_a_client_that_reached_its_hub_retries_a_hub_that_is_down_and_resumes()
    {
        // What the live state does after a reset: stop the stream, load the state, enumerate again.
        // The hub may be down at that moment; that is a lost connection, not a wrong URL.
        var p = fixture.NewProject("again");
        // A port below the ephemeral range: the kernel could hand one of that range, once freed, to any
        // connection made before the second hub binds it (LoopbackPorts says more).
        var first = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: EventHub.Storage.LoopbackPorts.Free());
        var port = first.BaseAddress.Port;
        HubServer? second = null;
        try
        {
            await Writer.SessionAsync(p, 1);
            var retries = new SemaphoreSlim(0);
            await using var client = NewClient(p, hub: first.BaseAddress, policy: new SignallingPolicy(retries));
            await foreach (var e in client.ReadAllAsync().WithCancellation(new CancellationTokenSource(TaskTimeouts.Default).Token))
            {
                Assert.Equal($"{p}-1", e.SessionId);
                break;
            }

            await first.DisposeAsync();
            await Writer.SessionAsync(p, 2);
            using var stop = new CancellationTokenSource(TaskTimeouts.Default);
            var next = Task.Run(async () =>
            {
                await foreach (var e in client.ReadAllAsync(stop.Token)) return e;
                return null;
            });
            Assert.True(await retries.WaitAsync(TaskTimeouts.Default), "the client did not retry"); // refused, and asked the policy
            second = await ClientHubFixture.StartHubAsync(fixture.Db.ConnectionString, port: port);

            Assert.Equal($"{p}-2", (await next.WithTimeout())?.SessionId);
        }
        finally
        {
            if (second is not null) await second.DisposeAsync();
            else await first.DisposeAsync();
        }
    }

    private sealed class SignallingPolicy(SemaphoreSlim asked) : IEventHubReconnectPolicy
    {
        public TimeSpan? NextDelay(EventHubReconnectContext context)
        {
            asked.Release();
            return TimeSpan.FromMilliseconds(20);
        }
    }
}
