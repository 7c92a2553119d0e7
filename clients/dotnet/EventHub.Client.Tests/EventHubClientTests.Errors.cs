using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;
using static EventHub.Client.EventHubConnectionState;

namespace EventHub.Client.Tests;

public sealed partial class EventHubClientTests
{
    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_request_the_hub_rejects_ends_the_enumeration_with_its_code_instead_of_retrying(EventHubProtocol protocol)
    {
        // The refusal arrives as the stream's stream_error item (a code, as data), not as a message to parse.
        var policy = new CountingPolicy();
        await using var reader = new ClientReader(NewClient(fixture.NewProject(), protocol, after: "not-an-offset", policy: policy));

        var error = await Assert.ThrowsAsync<EventHubRequestException>(() => reader.Completion.WithTimeout());

        Assert.Equal("invalid_offset", error.Code);
        Assert.Contains("not-an-offset", error.Message);
        Assert.Equal(0, policy.Calls);
        Assert.Equal(Stopped, reader.Client.State);
        Assert.Equal(Stopped, reader.States[^1]);
    }

    [Fact]
    public async Task An_unreachable_hub_fails_the_first_connection_at_once_and_a_policy_that_gives_up_ends_retries()
    {
        var closed = new Uri($"http://127.0.0.1:{FreePort()}");

        await using var once = new ClientReader(NewClient("p", hub: closed));
        var error = await Assert.ThrowsAsync<EventHubConnectionException>(() => once.Completion.WithTimeout());
        Assert.Contains("Check the URL", error.Message);
        Assert.IsType<HttpRequestException>(error.InnerException);

        var policy = new CountingPolicy { GiveUpAfter = 3 };
        await using var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = closed, RetryInitialConnection = true, ReconnectPolicy = policy,
        });
        await using var retrying = new ClientReader(client);
        var gaveUp = await Assert.ThrowsAsync<EventHubConnectionException>(() => retrying.Completion.WithTimeout());
        Assert.Contains("Gave up", gaveUp.Message);
        Assert.Equal(4, policy.Calls); // asked before attempts 2, 3, 4; refused the 4th call
        Assert.Equal([Connecting, Stopped], retrying.States);
    }

    [Fact]
    public async Task A_hub_that_accepts_the_connection_and_never_answers_fails_the_first_stream_and_state_request_after_the_connect_timeout()
    {
        // Accepts TCP and reads nothing, answers nothing: a hung hub, or another service on its port.
        // SignalR's negotiate request alone would wait HttpClient's 100 s, past the bound below.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try { while (true) held.Add(await silent.AcceptSocketAsync(stop.Token)); }
            catch (OperationCanceledException) { }
        });
        var hub = new Uri($"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}");
        var options = new EventHubClientOptions { HubUrl = hub, StartAfter = "0", ConnectTimeout = TimeSpan.FromSeconds(1) };
        try
        {
            await using var reader = new ClientReader(new EventHubClient(options));
            var error = await Assert.ThrowsAsync<EventHubConnectionException>(() => reader.Completion.WithTimeout(TimeSpan.FromSeconds(20)));
            Assert.Contains("did not answer within 1 s", error.Message);
            Assert.Contains("Check the URL", error.Message);
            Assert.Equal([Connecting, Stopped], reader.States);

            await using var client = new EventHubClient(options);
            var stateError = await Assert.ThrowsAsync<EventHubConnectionException>(() => client.GetStateAsync().WithTimeout(TimeSpan.FromSeconds(20)));
            Assert.Contains("did not answer within 1 s", stateError.Message);
        }
        finally
        {
            await stop.CancelAsync();
            await accepting;
            foreach (var socket in held) socket.Dispose();
        }
    }

    [Fact]
    public void A_connect_timeout_that_is_not_positive_is_refused_at_construction()
    {
        var error = Assert.Throws<ArgumentException>(() => new EventHubClient(new EventHubClientOptions
        {
            HubUrl = new Uri("http://127.0.0.1:1"), ConnectTimeout = TimeSpan.Zero,
        }));
        Assert.Contains("ConnectTimeout", error.Message);
    }

    [Theory]
    [InlineData(EventHubProtocol.Json)]
    [InlineData(EventHubProtocol.MessagePack)]
    public async Task A_first_connection_over_the_hubs_connection_limit_is_reported_with_its_code_and_retried_until_a_slot_frees(EventHubProtocol protocol)
    {
        // The hub takes the connection and closes it at its handshake, the code in the close
        // message. Before, the call that followed failed with "not active" and a first connection
        // stopped as if the hub were unreachable ("Check the URL").
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        await using var hub = await HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Limits:MaxConnectionsPerAddress"] = "1" });
        var first = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", Protocol = protocol,
        }));
        await first.ReadAsync(1);

        var policy = new CountingPolicy();
        var attempts = 0;
        var client = new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = ["ao"], StartAfter = "0", Protocol = protocol, ReconnectPolicy = policy,
        })
        {
            // The close can arrive before the client opens its stream or after: make it before on
            // the first attempt, the case that was lost (the stream call then fails with "not active").
            ConnectionStarted = async connection =>
            {
                if (Interlocked.Increment(ref attempts) > 1) return;
                var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                connection.Closed += _ => { closed.TrySetResult(); return Task.CompletedTask; };
                if (connection.State != Microsoft.AspNetCore.SignalR.Client.HubConnectionState.Disconnected) await closed.Task.WithTimeout();
            },
        };
        var refused = new TaskCompletionSource<EventHubStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.StateChanged += (_, e) => { if (e.Error is not null) refused.TrySetResult(e); };
        await using var second = new ClientReader(client);
        var change = await refused.Task.WithTimeout();
        // Shown as the first connection is refused, not only once a later attempt had gone live.
        Assert.Equal((Connecting, Reconnecting), (change.Previous, change.Current));
        var error = Assert.IsType<EventHubConnectionException>(change.Error);
        Assert.Equal("too_many_connections_per_address", error.Code);
        Assert.False(second.Completion.IsCompleted, "the client stopped instead of retrying");

        await first.DisposeAsync(); // the slot frees: the retries get it
        var events = await second.ReadAsync(1);
        Assert.Equal("ao-1", events[0].SessionId);
        Assert.True(policy.Calls > 0);
    }

    [Fact]
    public void The_default_policy_retries_at_once_then_backs_off_up_to_its_cap()
    {
        var policy = new ExponentialBackoffPolicy { InitialDelay = TimeSpan.FromSeconds(1), MaxDelay = TimeSpan.FromSeconds(5), JitterFraction = 0 };
        var error = new IOException("lost");
        TimeSpan? Delay(int attempt) => policy.NextDelay(new EventHubReconnectContext(attempt, TimeSpan.Zero, error));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5)],
            [Delay(1), Delay(2), Delay(3), Delay(4), Delay(5), Delay(500)]);
        Assert.Null(new ExponentialBackoffPolicy { MaxAttempts = 2 }.NextDelay(new EventHubReconnectContext(3, TimeSpan.Zero, error)));
        Assert.Null(new ExponentialBackoffPolicy { MaxElapsed = TimeSpan.FromSeconds(1) }
            .NextDelay(new EventHubReconnectContext(2, TimeSpan.FromSeconds(1), error)));
    }

    internal static int FreePort() => EventHub.Storage.LoopbackPorts.Free();

    private sealed class CountingPolicy : IEventHubReconnectPolicy
    {
        public int Calls;
        public int GiveUpAfter { get; init; } = int.MaxValue;

        public TimeSpan? NextDelay(EventHubReconnectContext context)
        {
            Interlocked.Increment(ref Calls);
            return context.Attempt > GiveUpAfter ? null : TimeSpan.FromMilliseconds(10);
        }
    }
}
