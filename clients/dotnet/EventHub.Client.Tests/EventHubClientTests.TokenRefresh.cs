using EventHub.Client.Tests.Infrastructure;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task When_its_token_expires_the_client_gets_a_fresh_one_from_its_provider_and_resumes_without_loss(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        var issued = 0;
        var longTokens = false;
        var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress,
            Projects = ["ao"],
            StartAfter = "0",
            Protocol = protocol,
            ReconnectPolicy = FastPolicy,
            // Short-lived tokens until the first event: the stream outlives them. The ones after
            // last: a second short one could expire before "ao-3" arrives on a loaded machine, and
            // two expiries with no event between stop the client (the fresh token failed the same way).
            AccessTokenProvider = () =>
            {
                Interlocked.Increment(ref issued);
                return Task.FromResult<string?>(TestTokens.Mint(["ao"], TimeSpan.FromSeconds(Volatile.Read(ref longTokens) ? 60 : 2)));
            },
        });
        await using var reader = new ClientReader(client);
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await reader.ReadAsync(1))[0].SessionId);
        Volatile.Write(ref longTokens, true);
        var first = Volatile.Read(ref issued);

        // Written while the first token expires and the client reconnects with a new one.
        await db.Writer.SessionAsync("ao", 2);
        await TaskTimeouts.UntilAsync(() => Volatile.Read(ref issued) > first, because: "the client never asked for a fresh token");
        await db.Writer.SessionAsync("ao", 3);

        var rest = await reader.ReadAsync(2);
        Assert.Equal(["ao-2", "ao-3"], rest.Select(e => e.SessionId));
    }

    [Fact]
    public async Task A_quiet_stream_outlives_every_token_it_gets_and_a_later_event_arrives()
    {
        // No event for two token lifetimes: each token expires on a stream that delivered nothing.
        // The second expiry used to stop the client as "the fresh token failed the same way", and
        // then, while a stream had to run 10 s on a token to show the hub took it, did so for
        // tokens of a few seconds.
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        await db.Writer.ProjectAsync("ao");
        var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress,
            Projects = ["ao"],
            ReconnectPolicy = FastPolicy,
            // exp has whole seconds: each token lives 3-4 s, past the client's TokenCarriedStream (1 s)
            // with room for a connection's set-up on a busy machine.
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Mint(["ao"], TimeSpan.FromSeconds(4))),
        });
        var lives = 0;
        var twoRenewals = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) =>
        {
            if (e.Current == EventHubConnectionState.Live && Interlocked.Increment(ref lives) == 3) twoRenewals.TrySetResult();
        };
        await using var reader = new ClientReader(client);

        await Task.WhenAny(twoRenewals.Task, reader.Completion).WithTimeout(TimeSpan.FromSeconds(60));
        Assert.False(reader.Completion.IsCompleted, $"the client stopped: {reader.Completion.Exception?.InnerException?.Message}");
        await db.Writer.SessionAsync("ao", 1);
        Assert.Equal("ao-1", (await reader.ReadAsync(1))[0].SessionId);
    }
}
