using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_project_the_token_does_not_grant_stops_the_client_without_a_retry(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["not-granted"], StartAfter = "0", Protocol = protocol, ReconnectPolicy = policy,
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Mint(["granted"])),
        }));

        // The refusal is the stream's stream_error item: forbidden_project, retried "never".
        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("forbidden_project", error.Code);
        Assert.Equal(0, policy.Calls);
        Assert.DoesNotContain(Reconnecting, reader.States);
    }

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task Without_a_token_provider_a_hub_that_wants_a_token_stops_the_client_at_once(EventHubProtocol protocol)
    {
        // No provider, no fresh token to ask for: before, the client went Reconnecting and tried
        // the same request once more.
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", Protocol = protocol, ReconnectPolicy = policy,
        }));

        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("unauthenticated", error.Code);
        Assert.Equal(0, policy.Calls);
        Assert.DoesNotContain(Reconnecting, reader.States);
        Assert.Equal(Stopped, reader.Client.State);
    }

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_token_the_hub_rejects_stops_the_client_after_one_fresh_token(EventHubProtocol protocol)
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", Protocol = protocol, ReconnectPolicy = policy,
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Mint(["ao"], key: "a-key-the-hub-does-not-know-0123456789abcdef")),
        }));

        // 401 at the negotiation is "unauthenticated": one fresh token at once, then a stop.
        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("unauthenticated", error.Code);
        Assert.Equal(0, policy.Calls); // at once: the backoff policy was never asked
        Assert.Equal(Stopped, reader.Client.State);
    }

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_refused_negotiation_keeps_the_hubs_code_and_message(EventHubProtocol protocol)
    {
        // SignalR's client keeps only the status of a refused negotiation; the hub's JSON body says
        // which refusal it is (an expired token is not a token the hub does not know).
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, TestTokens.TokenModeSettings());
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", Protocol = protocol, ReconnectPolicy = new CountingPolicy(),
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Mint(["ao"], TimeSpan.FromMinutes(-5))),
        }));

        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("token_expired", error.Code);
        Assert.Contains("fresh token", error.Message);
    }

    [Fact]
    public async Task A_host_name_the_hub_does_not_answer_to_stops_the_client_with_host_not_allowed()
    {
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = fixture.Hub.BaseAddress, Projects = ["ao"], StartAfter = "0", ReconnectPolicy = policy,
            ConfigureHttpConnection = o => o.Headers["Host"] = "evil.example",
        }));

        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("host_not_allowed", error.Code); // was a connection "refused (403)": a wrong URL, exit 1 in the CLI
        Assert.Equal(0, policy.Calls);
    }

    [Fact]
    public async Task A_provider_that_hands_out_just_expired_tokens_stops_the_client_after_one_fresh_token()
    {
        // Within the hub's clock skew of exp the connection is accepted and the stream refused
        // (token_expired): the stream "went live" on each fresh token, so only how long it ran tells
        // this provider from a quiet stream's expiries. It must stop, not reconnect at once forever.
        await using var db = await TestDatabase.CreateAsync();
        var settings = TestTokens.TokenModeSettings();
        settings["Auth:ClockSkew"] = "00:00:30";
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", ReconnectPolicy = policy,
            AccessTokenProvider = () => Task.FromResult<string?>(TestTokens.Mint(["ao"], TimeSpan.FromSeconds(-5))),
        }));

        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("token_expired", error.Code);
        Assert.Equal(0, policy.Calls);
    }
}
