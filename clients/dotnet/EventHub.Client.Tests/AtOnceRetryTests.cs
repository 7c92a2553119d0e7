using System.Threading.Channels;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// The contract's "at once" (<c>server_ended</c>) reconnects without the policy once after progress;
/// a second one in a row asks the policy. A hub that ends every stream at once (a node draining
/// behind a balancer that keeps choosing it) was otherwise asked again as fast as the connections
/// went. The stream comes from the client's test seam (<see cref="EventHubClient.OpenStreamOverride"/>).
/// </summary>
public sealed class AtOnceRetryTests
{
    private sealed class CountingPolicy : IEventHubReconnectPolicy
    {
        public int Calls;

        public TimeSpan? NextDelay(EventHubReconnectContext context)
        {
            Interlocked.Increment(ref Calls);
            return TimeSpan.Zero;
        }
    }

    private static ChangeEvent Event(long seq) =>
        new() { Seq = seq, ProjectId = "p", Type = "custom_type", CreatedAt = DateTimeOffset.UnixEpoch, Offset = $"e.1.{seq}" };

    [Fact]
    public async Task A_second_server_ended_in_a_row_asks_the_policy_and_an_event_starts_afresh()
    {
        var opens = 0;
        var policy = new CountingPolicy();
        var policyCallsAtOpen = new List<int>();
        await using var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = new Uri("http://127.0.0.1:1"), StartAfter = "0", ReconnectPolicy = policy,
        })
        {
            // The first stream delivers an event, then every stream ends at once with server_ended.
            OpenStreamOverride = (_, _) =>
            {
                var n = Interlocked.Increment(ref opens);
                lock (policyCallsAtOpen) policyCallsAtOpen.Add(Volatile.Read(ref policy.Calls));
                var channel = Channel.CreateUnbounded<ChangeEvent>();
                if (n == 1) channel.Writer.TryWrite(Event(1));
                channel.Writer.TryWrite(StreamSignal.ForError(ErrorCodes.ServerEnded, "The hub is stopping.").ToItem(DateTimeOffset.UnixEpoch));
                channel.Writer.TryComplete();
                return Task.FromResult(channel.Reader);
            },
        };

        using var cts = new CancellationTokenSource(TaskTimeouts.Default);
        var read = Task.Run(async () =>
        {
            await foreach (var _ in client.ReadAllAsync(cts.Token)) { }
        });
        await TaskTimeouts.UntilAsync(() => Volatile.Read(ref opens) >= 4);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);

        // Open 2 follows the event's stream at once; open 3 follows a second server_ended without
        // progress, so the policy was asked (it was never asked, whatever the count of opens).
        lock (policyCallsAtOpen)
        {
            Assert.Equal(0, policyCallsAtOpen[1]);
            Assert.True(policyCallsAtOpen[2] >= 1, $"policy calls at each open: {string.Join(", ", policyCallsAtOpen)}");
        }
    }
}
