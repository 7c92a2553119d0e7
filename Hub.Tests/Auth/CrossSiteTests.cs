using System.Net;
using System.Net.ServerSentEvents;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using EventHub.Auth;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Auth;

/// <summary>
/// One database and three hubs: open mode with its defaults, and open and token mode with a
/// configured browser origin and host names. Every request goes to a real Kestrel on loopback.
/// </summary>
public sealed class CrossSiteFixture : IAsyncLifetime
{
    public const string ConfiguredOrigin = "https://dashboard.example";
    public const string ConfiguredHost = "hub.example";
    public const string WildcardHost = "*.apps.example";

    private int _projects;

    public TestDatabase Db { get; private set; } = null!;
    public HubServer Open { get; private set; } = null!;
    public HubServer OpenConfigured { get; private set; } = null!;
    public HubServer TokenConfigured { get; private set; } = null!;

    public string NewProject() => $"x{Interlocked.Increment(ref _projects)}";

    public HubServer Configured(bool token) => token ? TokenConfigured : OpenConfigured;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(nameof(CrossSiteFixture));
        Open = await HubServer.StartAsync(Db.ConnectionString);
        var configured = new Dictionary<string, string?>
        {
            ["Cors:AllowedOrigins:0"] = ConfiguredOrigin,
            ["Security:AllowedHosts:0"] = ConfiguredHost,
            ["Security:AllowedHosts:1"] = WildcardHost,
        };
        OpenConfigured = await HubServer.StartAsync(Db.ConnectionString, configured);
        var token = TestTokens.TokenModeSettings();
        foreach (var (k, v) in configured) token[k] = v;
        TokenConfigured = await HubServer.StartAsync(Db.ConnectionString, token);
    }

    public async Task DisposeAsync()
    {
        await TokenConfigured.DisposeAsync();
        await OpenConfigured.DisposeAsync();
        await Open.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>
/// Cross-site WebSocket hijacking and DNS rebinding (docs/security.md, "Cross-site protection"):
/// a page on another site gets nothing from either transport, in either mode, while loopback,
/// configured, same-origin and Origin-less clients stream as before.
/// </summary>
public sealed class CrossSiteTests(CrossSiteFixture fixture) : IClassFixture<CrossSiteFixture>
{
    private const string Foreign = "https://evil.example";

    private HubServer Hub(bool token) => token ? fixture.TokenConfigured : fixture.Open;

    private static string? TokenFor(bool token, string project) => token ? TestTokens.Mint([project]) : null;

    // ---- cross-site WebSocket hijacking ----

    [Theory]
    [InlineData(false, Foreign)]
    [InlineData(false, "null")]
    [InlineData(false, "http://localhost.evil.example")]
    [InlineData(true, Foreign)]
    public async Task A_WebSocket_upgrade_to_the_hub_from_a_foreign_origin_is_refused_and_reads_no_event(bool token, string origin)
    {
        var p = fixture.NewProject();
        var (status, events) = await StreamOverWebSocketAsync(Hub(token), p, TokenFor(token, p), origin: origin);
        Assert.Equal(0, events);
        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_negotiate_POST_from_a_foreign_origin_is_refused_naming_the_setting(bool token)
    {
        var p = fixture.NewProject();
        var response = await SendAsync(Hub(token), HttpMethod.Post, "/hubs/events/negotiate?negotiateVersion=1", TokenFor(token, p), origin: Foreign);
        await AssertRefusedAsync(response, CrossSiteGuard.OriginNotAllowed, "Cors:AllowedOrigins");
    }

    [Theory]
    [InlineData(false, Foreign)]
    [InlineData(false, "null")]
    [InlineData(true, Foreign)]
    public async Task An_SSE_request_from_a_foreign_origin_is_refused_and_reads_no_event(bool token, string origin)
    {
        var p = fixture.NewProject();
        var (response, events) = await StreamOverSseAsync(Hub(token), p, TokenFor(token, p), origin: origin);
        Assert.Equal(0, events);
        await AssertRefusedAsync(response, CrossSiteGuard.OriginNotAllowed, "Cors:AllowedOrigins");
    }

    [Theory]
    [InlineData(false, Foreign)]
    [InlineData(false, "null")]
    [InlineData(true, Foreign)]
    public async Task A_live_state_request_from_a_foreign_origin_is_refused_before_the_state_is_read(bool token, string origin)
    {
        // CORS would hide the body from the page, but the request would still be served: the
        // state read from the database for any page that asks. Refused like the stream instead.
        var p = fixture.NewProject();
        var path = $"/api/v1/state?project={p}";
        await fixture.Db.Writer.SessionAsync(p, 1);
        // The state is kept by the ticker: wait until it holds the session, for a loopback page
        // and for a client without Origin, so that the refusal below is not an empty state.
        foreach (var allowed in new[] { token ? CrossSiteFixture.ConfiguredOrigin : "http://localhost:3000", null })
            await TaskTimeouts.UntilAsync(() =>
            {
                var answered = SendAsync(Hub(token), HttpMethod.Get, path, TokenFor(token, p), origin: allowed).GetAwaiter().GetResult();
                return answered.StatusCode == HttpStatusCode.OK &&
                       answered.Content.ReadAsStringAsync().GetAwaiter().GetResult().Contains($"\"{p}-1\"");
            }, because: $"the state did not show {p}-1 to origin {allowed ?? "(none)"}");

        var refused = await SendAsync(Hub(token), HttpMethod.Get, path, TokenFor(token, p), origin: origin);
        Assert.DoesNotContain(p + "-1", await refused.Content.ReadAsStringAsync());
        await AssertRefusedAsync(refused, CrossSiteGuard.OriginNotAllowed, "Cors:AllowedOrigins");
    }

    [Theory]
    [InlineData(false, Foreign)]
    [InlineData(false, "null")]
    [InlineData(true, Foreign)]
    public async Task A_project_list_request_from_a_foreign_origin_is_refused_and_names_no_project(bool token, string origin)
    {
        var p = fixture.NewProject();
        await fixture.Db.Writer.ProjectAsync(p);
        var allowed = await SendAsync(Hub(token), HttpMethod.Get, "/api/v1/projects", TokenFor(token, p),
            origin: token ? CrossSiteFixture.ConfiguredOrigin : "http://localhost:3000");
        Assert.Contains($"\"{p}\"", await allowed.Content.ReadAsStringAsync());

        var refused = await SendAsync(Hub(token), HttpMethod.Get, "/api/v1/projects", TokenFor(token, p), origin: origin);
        Assert.DoesNotContain(p, await refused.Content.ReadAsStringAsync());
        await AssertRefusedAsync(refused, CrossSiteGuard.OriginNotAllowed, "Cors:AllowedOrigins");
    }

    // ---- DNS rebinding ----

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_SSE_request_addressed_to_a_foreign_host_name_is_refused_and_reads_no_event(bool token)
    {
        var p = fixture.NewProject();
        var hub = Hub(token);
        // As a rebound page sends it: same-origin, so no Origin, but the attacker's name in Host.
        var (response, events) = await StreamOverSseAsync(hub, p, TokenFor(token, p), host: $"evil.example:{hub.BaseAddress.Port}");
        Assert.Equal(0, events);
        await AssertRefusedAsync(response, CrossSiteGuard.HostNotAllowed, "Security:AllowedHosts");
    }

    [Theory]
    [InlineData(false, "/api/v1/events/head", "GET")]
    [InlineData(false, "/api/v1/state", "GET")]
    [InlineData(false, "/api/v1/projects", "GET")]
    [InlineData(false, "/hubs/events/negotiate?negotiateVersion=1", "POST")]
    [InlineData(false, "/", "GET")]
    [InlineData(false, "/metrics", "GET")]
    [InlineData(true, "/api/v1/events/head", "GET")]
    [InlineData(true, "/hubs/events/negotiate?negotiateVersion=1", "POST")]
    public async Task Every_path_but_the_health_probes_refuses_a_foreign_host_name(bool token, string path, string method)
    {
        var hub = Hub(token);
        var response = await SendAsync(hub, new HttpMethod(method), path, TokenFor(token, fixture.NewProject()),
            host: $"localhost.evil.example:{hub.BaseAddress.Port}");
        await AssertRefusedAsync(response, CrossSiteGuard.HostNotAllowed, "Security:AllowedHosts");
    }

    [Theory]
    [InlineData("/healthz")]
    [InlineData("/readyz")]
    public async Task The_health_probes_answer_whatever_the_host_name(string path)
    {
        var response = await SendAsync(fixture.Open, HttpMethod.Get, path, null, host: "eventhub-7d9f.pod.cluster.local:8080");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    // ---- what keeps working ----

    public static TheoryData<bool, string?, string?> Allowed => new()
    {
        // open mode, defaults: no Origin (curl, .NET and Node clients), loopback pages (a dev dashboard), IP literals
        { false, null, null },
        { false, "http://localhost:3000", null },
        { false, "http://127.0.0.1:5173", null },
        { false, "http://[::1]:8080", null },
        { false, null, "10.1.2.3:{port}" },
        { false, null, "[::1]:{port}" },
        // configured hubs, both modes: the configured origin, a configured host name (exact and
        // wildcard), and a page served by the hub itself under that name (same origin)
        { true, CrossSiteFixture.ConfiguredOrigin, null },
        { true, null, "hub.example:{port}" },
        { true, null, "viewer.apps.example" },
        { true, "http://hub.example:{port}", "hub.example:{port}" },
        { true, "https://hub.example", "HUB.example" },
    };

    [Fact]
    public async Task A_loopback_page_streams_beside_configured_origins_in_open_mode_and_is_refused_in_token_mode_unless_configured()
    {
        // Issue 6: "none allowed by default outside open mode". A token-mode hub serves more than
        // one person; a dashboard on localhost is one more origin to configure there.
        var p = fixture.NewProject();
        var (open, events) = await StreamOverSseAsync(fixture.OpenConfigured, p, null, origin: "http://localhost:3000");
        Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        Assert.Equal(1, events);

        var q = fixture.NewProject();
        var (refused, none) = await StreamOverSseAsync(fixture.TokenConfigured, q, TestTokens.Mint([q]), origin: "http://localhost:3000");
        Assert.Equal(0, none);
        await AssertRefusedAsync(refused, CrossSiteGuard.OriginNotAllowed, "Cors:AllowedOrigins");
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task Loopback_configured_same_origin_and_Origin_less_requests_stream_over_SSE_in_both_modes(bool configured, string? origin, string? host)
    {
        foreach (var token in configured ? new[] { false, true } : [false])
        {
            var hub = configured ? fixture.Configured(token) : fixture.Open;
            var p = fixture.NewProject();
            var (response, events) = await StreamOverSseAsync(hub, p, TokenFor(token, p), Port(origin, hub), Port(host, hub));
            if (response.StatusCode != HttpStatusCode.OK)
                Assert.Fail($"token={token}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(1, events);
        }
    }

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task Loopback_configured_same_origin_and_Origin_less_requests_stream_over_the_WebSocket_in_both_modes(bool configured, string? origin, string? host)
    {
        // ClientWebSocket cannot set Host; the SSE test covers host names, this one origins.
        if (host is not null && origin is null) return;
        foreach (var token in configured ? new[] { false, true } : [false])
        {
            var hub = configured ? fixture.Configured(token) : fixture.Open;
            var p = fixture.NewProject();
            var (status, events) = await StreamOverWebSocketAsync(hub, p, TokenFor(token, p), Port(origin, hub), Port(host, hub));
            Assert.Equal(HttpStatusCode.SwitchingProtocols, status);
            Assert.Equal(1, events);
        }
    }

    // ---- start-up ----

    [Fact]
    public void A_hub_on_a_network_address_without_allowed_hosts_refuses_to_start_and_names_the_setting()
    {
        var token = Configuration(("urls", "http://0.0.0.0:5080"), ("Auth:Mode", "Token"), ("Auth:SigningKey", TestTokens.SigningKey),
            ("Auth:Issuer", TestTokens.Issuer), ("Auth:Audience", TestTokens.Audience));
        var refused = new CrossSiteOptionsValidator(token).Validate(null, new CrossSiteOptions());
        Assert.True(refused.Failed);
        Assert.Contains("Security:AllowedHosts", refused.FailureMessage);
        Assert.Contains("http://0.0.0.0:5080", refused.FailureMessage);

        Assert.True(new CrossSiteOptionsValidator(token).Validate(null, new CrossSiteOptions { AllowedHosts = ["hub.example.com"] }).Succeeded);
        Assert.True(new CrossSiteOptionsValidator(Configuration(("urls", "http://0.0.0.0:5080"), ("Auth:AllowOpenOnNetwork", "true")))
            .Validate(null, new CrossSiteOptions()).Failed);
        // Open mode on a network address without the override is refused by Auth alone (one line, one reason).
        Assert.True(new CrossSiteOptionsValidator(Configuration(("urls", "http://0.0.0.0:5080"))).Validate(null, new CrossSiteOptions()).Skipped);
    }

    private static IConfiguration Configuration(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, (string?)v.Value))).Build();

    [Fact]
    public async Task Token_mode_on_a_network_address_without_allowed_hosts_does_not_start()
    {
        var settings = TestTokens.TokenModeSettings();
        settings["Urls"] = "http://0.0.0.0:0";
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            var hub = await HubServer.StartAsync(fixture.Db.ConnectionString, settings);
            await hub.DisposeAsync(); // only reached when the check is missing
        });
        Assert.Contains("Security:AllowedHosts", error.Message);
    }

    [Theory]
    [InlineData("https://hub.example.com")]
    [InlineData("hub.example.com:443")]
    [InlineData("hub.example.com/")]
    public void An_allowed_host_with_a_scheme_port_or_path_is_refused_at_start_up(string entry)
    {
        var result = new CrossSiteOptionsValidator(Configuration(("urls", "http://127.0.0.1:0")))
            .Validate(null, new CrossSiteOptions { AllowedHosts = [entry] });
        Assert.True(result.Failed);
        Assert.Contains("Security:AllowedHosts", result.FailureMessage);
    }

    // ---- helpers ----

    private static string? Port(string? value, HubServer hub) => value?.Replace("{port}", hub.BaseAddress.Port.ToString());

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string code, string setting)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Contains(setting, error.GetProperty("message").GetString());
    }

    private static async Task<HttpResponseMessage> SendAsync(HubServer hub, HttpMethod method, string path, string? token,
        string? origin = null, string? host = null)
    {
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        if (host is not null) request.Headers.Host = host;
        var response = await http.SendAsync(request).WithTimeout();
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    /// <summary>
    /// Opens an SSE stream of one (fresh) project from its beginning with the given Origin and Host,
    /// writes one event, and reads until it arrives (0 when the request was refused). From the
    /// beginning, so the event arrives whether it was written before or after the stream opened.
    /// </summary>
    private async Task<(HttpResponseMessage Response, int Events)> StreamOverSseAsync(HubServer hub, string project, string? token,
        string? origin = null, string? host = null)
    {
        using var http = new HttpClient { BaseAddress = hub.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/events?project={project}&after=0");
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (token is not null) request.Headers.Authorization = new("Bearer", token);
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        if (host is not null) request.Headers.Host = host;
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            await fixture.Db.Writer.SessionAsync(project, 1);
            await response.Content.LoadIntoBufferAsync();
            return (response, 0);
        }
        await fixture.Db.Writer.SessionAsync(project, 1);
        var events = 0;
        using var cts = new CancellationTokenSource(TaskTimeouts.Default); // a bound, not a wait
        await using (var body = await response.Content.ReadAsStreamAsync())
        {
            try
            {
                await foreach (var item in SseParser.Create(body).EnumerateAsync(cts.Token))
                    if (item.Data.Contains($"\"projectId\":\"{project}\"")) { events++; break; }
            }
            catch (OperationCanceledException) { }
        }
        return (response, events);
    }

    /// <summary>
    /// A browser's WebSocket without negotiate (SignalR's skipNegotiation): upgrade with the given
    /// Origin, handshake, StreamEvents for one (fresh) project from its beginning, write one event,
    /// read until it arrives (so no wait for the stream to open is needed). Returns the upgrade's
    /// status (101 when accepted).
    /// </summary>
    private async Task<(HttpStatusCode Status, int Events)> StreamOverWebSocketAsync(HubServer hub, string project, string? token,
        string? origin = null, string? host = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (origin is not null) socket.Options.SetRequestHeader("Origin", origin);
        if (host is not null) socket.Options.SetRequestHeader("Host", host);
        var query = token is null ? "" : "access_token=" + Uri.EscapeDataString(token);
        var uri = new UriBuilder(hub.BaseAddress) { Scheme = "ws", Path = "/hubs/events", Query = query }.Uri;
        try
        {
            await socket.ConnectAsync(uri, CancellationToken.None).WithTimeout();
        }
        catch (WebSocketException)
        {
            await fixture.Db.Writer.SessionAsync(project, 1);
            return (socket.HttpStatusCode, 0);
        }
        const char rs = '\u001e';
        await SendAsync(socket, $"{{\"protocol\":\"json\",\"version\":1}}{rs}");
        await SendAsync(socket, $$"""{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":["{{project}}"],"after":"0"}]}""" + rs);
        await fixture.Db.Writer.SessionAsync(project, 1);
        var events = 0;
        var buffer = new byte[64 * 1024];
        using var cts = new CancellationTokenSource(TaskTimeouts.Default); // a bound, not a wait
        var text = new StringBuilder();
        try
        {
            while (events == 0)
            {
                var result = await socket.ReceiveAsync(buffer, cts.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                text.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
                if (!result.EndOfMessage) continue;
                foreach (var message in text.ToString().Split(rs, StringSplitOptions.RemoveEmptyEntries))
                    if (message.Contains("\"type\":2") && message.Contains($"\"projectId\":\"{project}\"")) events++;
                text.Clear();
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        return (socket.HttpStatusCode, events);
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();
}
