using System.Net;
using System.Text.Json;
using EventHub.Auth;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.Auth;

/// <summary>
/// Limits with small values, on a hub of their own (open mode, configured CORS origins), so that
/// reaching them takes a few connections. Each test leaves no connection open.
/// </summary>
public sealed class LimitsAndCorsTests : IAsyncLifetime
{
    private const int MaxPerAddress = 3;
    private const int MaxStreams = 2;
    private const int MaxMessageBytes = 2048;
    private const string AllowedOrigin = "https://dashboard.example";

    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private int _projects;

    private string NewProject() => $"l{Interlocked.Increment(ref _projects)}";
    private ConnectionLimiter Limiter => _hub.Get<ConnectionLimiter>();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(LimitsAndCorsTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString, new Dictionary<string, string?>
        {
            ["Limits:MaxConnectionsPerAddress"] = MaxPerAddress.ToString(),
            ["Limits:MaxStreamsPerConnection"] = MaxStreams.ToString(),
            ["Limits:MaxHubMessageBytes"] = MaxMessageBytes.ToString(),
            ["Cors:AllowedOrigins:0"] = AllowedOrigin,
        });
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task UntilNoConnectionsAsync() =>
        await TaskTimeouts.UntilAsync(() => Limiter.Count("address:127.0.0.1") == 0, because: "connections were not released");

    [Fact]
    public async Task Past_the_connections_per_address_an_SSE_request_gets_429_and_a_hub_connection_is_closed_naming_the_limit()
    {
        await UntilNoConnectionsAsync();
        var p = NewProject();
        var open = new List<SseTestClient>();
        try
        {
            for (var i = 0; i < MaxPerAddress; i++) open.Add(await SseTestClient.ConnectAsync(_hub.BaseAddress, $"project={p}"));

            using var http = new HttpClient { BaseAddress = _hub.BaseAddress };
            var response = await http.GetAsync($"/api/v1/events?project={p}").WithTimeout();
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("too_many_connections_per_address", error.GetProperty("code").GetString());
            Assert.Contains("Limits:MaxConnectionsPerAddress", error.GetProperty("message").GetString());

            var closed = await ConnectAndWaitForCloseAsync(_hub.BaseAddress);
            Assert.Contains("too_many_connections_per_address", closed);

            // The connections that were let in go on.
            await _db.Writer.SessionAsync(p, 1);
            foreach (var sse in open) Assert.Equal(p, (await sse.ReadEventAsync()).ProjectId);
        }
        finally
        {
            foreach (var sse in open) await sse.DisposeAsync();
        }
        // Closing one frees its slot.
        await UntilNoConnectionsAsync();
        await using var again = await SseTestClient.ConnectAsync(_hub.BaseAddress, $"project={p}");
    }

    /// <summary>
    /// A state answer is held for its client like a stream (read ahead, sent at the client's pace),
    /// so it takes a connection slot while it is sent: one address cannot hold more state answers
    /// than it may hold connections. Before, thirty requests for a large state that read nothing
    /// were all served past a limit of twenty, each answer held whole in the hub's memory.
    /// </summary>
    [Fact]
    public async Task Past_the_connections_per_address_a_state_request_gets_429_and_an_answered_one_frees_its_slot()
    {
        await UntilNoConnectionsAsync();
        var p = NewProject();
        await _db.Writer.SessionAsync(p, 1);
        using var http = new HttpClient { BaseAddress = _hub.BaseAddress };
        var open = new List<SseTestClient>();
        try
        {
            for (var i = 0; i < MaxPerAddress; i++) open.Add(await SseTestClient.ConnectAsync(_hub.BaseAddress, $"project={p}"));

            var response = await http.GetAsync($"/api/v1/state?project={p}").WithTimeout();
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Equal("too_many_connections_per_address", error.GetProperty("code").GetString());
        }
        finally
        {
            foreach (var sse in open) await sse.DisposeAsync();
        }
        await UntilNoConnectionsAsync();
        for (var i = 0; i < MaxPerAddress + 1; i++)
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v1/state?project={p}").WithTimeout()).StatusCode);
        await UntilNoConnectionsAsync();
    }

    [Fact]
    public async Task Past_the_streams_per_connection_a_stream_request_fails_naming_the_limit_and_a_cancelled_stream_frees_its_slot()
    {
        var p = NewProject();
        await using var client = await EventsHubClient.ConnectAsync(_hub.BaseAddress);
        using var first = new CancellationTokenSource();
        var streams = new List<TestEventStream>
        {
            await client.StreamAsync([p], after: "0", cancellationToken: first.Token),
        };
        for (var i = 1; i < MaxStreams; i++) streams.Add(await client.StreamAsync([p], after: "0"));

        var refused = await client.StreamAsync([p], after: "0");
        var error = await refused.FailureAsync();
        Assert.Contains("too_many_streams:", error.Message);
        Assert.Contains("Limits:MaxStreamsPerConnection", error.Message);

        // Every stream has joined its group first (a stream the client holds may not have yet:
        // counting down from there mistook a late join for the cancelled stream's leave).
        var tracker = _hub.Get<EventHub.SignalR.ProjectGroupTracker>();
        await TaskTimeouts.UntilAsync(() => tracker.StreamCount(client.ConnectionId, p) == MaxStreams);
        await first.CancelAsync();
        await streams[0].EndAsync();
        // The server frees the slot before the stream leaves its project group.
        await TaskTimeouts.UntilAsync(() => tracker.StreamCount(client.ConnectionId, p) == MaxStreams - 1);
        var replacement = await client.StreamAsync([p], after: "0");
        await _db.Writer.SessionAsync(p, 1);
        Assert.Equal(p, (await replacement.ReadAsync()).ProjectId);
    }

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task A_hub_message_over_the_size_limit_closes_that_connection_only(WireProtocol protocol)
    {
        var p = NewProject();
        await using var healthy = await EventsHubClient.ConnectAsync(_hub.BaseAddress);
        var stream = await healthy.StreamAsync([p], after: "0");

        await using var offender = await EventsHubClient.ConnectAsync(_hub.BaseAddress, protocol);
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        offender.Connection.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        var huge = Enumerable.Range(0, 40).Select(i => new string('x', 100) + i).ToArray(); // > 2 KiB
        _ = offender.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents,
            new StreamEventsRequest { Projects = huge });
        var error = await closed.Task.WithTimeout();
        Assert.Contains("maximum message size", error?.Message ?? "", StringComparison.OrdinalIgnoreCase);

        await _db.Writer.SessionAsync(p, 1);
        Assert.Equal(p, (await stream.ReadAsync()).ProjectId);
    }

    [Theory]
    [InlineData(AllowedOrigin, true)]
    [InlineData("https://evil.example", false)]
    [InlineData("http://localhost:5173", true)] // loopback pages stay allowed beside configured origins
    [InlineData("http://localhost.evil.example", false)]
    public async Task Only_loopback_and_configured_origins_pass_CORS(string origin, bool allowed)
    {
        foreach (var path in new[] { "/api/v1/events", "/hubs/events/negotiate" })
        {
            var response = await PreflightAsync(_hub.BaseAddress, path, origin);
            Assert.Equal(allowed ? origin : null, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var v) ? v.Single() : null);
        }
    }

    internal static async Task<HttpResponseMessage> PreflightAsync(Uri hub, string path, string origin)
    {
        using var http = new HttpClient { BaseAddress = hub };
        using var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", path.EndsWith("negotiate") ? "POST" : "GET");
        request.Headers.Add("Access-Control-Request-Headers", "authorization");
        return await http.SendAsync(request).WithTimeout();
    }

    /// <summary>Connects and returns the error the hub closes the connection with (the close can come during the handshake).</summary>
    internal static async Task<string> ConnectAndWaitForCloseAsync(Uri hub, string? token = null)
    {
        var connection = new HubConnectionBuilder().WithUrl(new Uri(hub, EventHubPaths.Events), o =>
        {
            if (token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(token);
        }).Build();
        var closed = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        try
        {
            await connection.StartAsync().WithTimeout();
        }
        catch (Exception e) when (e is HubException or InvalidOperationException or IOException)
        {
            // The close can arrive during the handshake.
            await connection.DisposeAsync();
            return e.Message;
        }
        var error = await closed.Task.WithTimeout();
        await connection.DisposeAsync();
        return error?.Message ?? "";
    }
}
