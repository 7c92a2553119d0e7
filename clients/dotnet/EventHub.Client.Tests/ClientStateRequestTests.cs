using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;

namespace EventHub.Client.Tests;

/// <summary>
/// <see cref="EventHubClient.GetStateAsync"/> retries as the stream does (the error contract and the
/// reconnect policy), over the client's state seam; <see cref="LiveStateKeyTests"/> calls the real hub.
/// </summary>
public sealed class ClientStateRequestTests
{
    [Fact]
    public async Task A_lost_connection_is_retried_per_the_policy_and_a_code_retried_never_stops_at_once()
    {
        var policy = new Policy();
        var calls = 0;
        await using var flaky = Client(policy, retryInitial: true, _ =>
            ++calls < 3 ? throw new HttpRequestException("connection refused") : Task.FromResult(new LiveState { Offset = "s" }));
        Assert.Equal("s", (await flaky.GetStateAsync().WithTimeout()).Offset);
        Assert.Equal(3, calls);
        Assert.Equal(2, policy.Calls);

        var refusals = 0;
        await using var refused = Client(policy, retryInitial: true, _ =>
        {
            refusals++;
            throw new HubException("forbidden_project: the token does not grant project x.");
        });
        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => refused.GetStateAsync().WithTimeout());
        Assert.Equal("forbidden_project", error.Code);
        Assert.Equal(1, refusals);

        // "At once" (the server stopping): no delay asked of the policy.
        var ended = 0;
        var before = policy.Calls;
        await using var restarting = Client(policy, retryInitial: true, _ =>
            ++ended < 2 ? throw new HubException("server_ended: the hub is stopping.") : Task.FromResult(new LiveState { Offset = "t" }));
        Assert.Equal("t", (await restarting.GetStateAsync().WithTimeout()).Offset);
        Assert.Equal(before, policy.Calls);
    }

    [Fact]
    public async Task Without_RetryInitialConnection_an_unreachable_hub_fails_the_first_request_and_a_policy_that_gives_up_ends_retries()
    {
        var calls = 0;
        await using var once = Client(new Policy(), retryInitial: false, _ =>
        {
            calls++;
            throw new HttpRequestException("connection refused");
        });
        var error = await Assert.ThrowsAsync<EventHubConnectionException>(() => once.GetStateAsync().WithTimeout());
        Assert.Contains("Check the URL", error.Message);
        Assert.Equal(1, calls);

        await using var givingUp = Client(new Policy { GiveUpAfter = 2 }, retryInitial: true, _ => throw new HttpRequestException("refused"));
        var gaveUp = await Assert.ThrowsAsync<EventHubConnectionException>(() => givingUp.GetStateAsync().WithTimeout());
        Assert.Contains("Gave up", gaveUp.Message);
    }

    private static EventHubClient Client(IEventHubReconnectPolicy policy, bool retryInitial, Func<CancellationToken, Task<LiveState>> answer) =>
        new(new EventHubClientOptions { HubUrl = new Uri("http://127.0.0.1:1"), ReconnectPolicy = policy, RetryInitialConnection = retryInitial })
        {
            GetStateOverride = answer,
        };

    private sealed class Policy : IEventHubReconnectPolicy
    {
        public int Calls;
        public int GiveUpAfter { get; init; } = int.MaxValue;

        public TimeSpan? NextDelay(EventHubReconnectContext context)
        {
            Interlocked.Increment(ref Calls);
            return context.Attempt > GiveUpAfter ? null : TimeSpan.FromMilliseconds(5);
        }
    }
}
