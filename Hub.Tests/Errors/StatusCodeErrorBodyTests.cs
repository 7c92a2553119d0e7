using System.Net;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Errors;

/// <summary>
/// A request no endpoint answers (a path the hub does not serve, a method a path does not take)
/// gets the JSON error body every other HTTP error has, with a code of the error contract, on a
/// real hub; what the hub's endpoints answer themselves is left as they wrote it.
/// </summary>
public sealed class StatusCodeErrorBodyTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private readonly HttpClient _http = new();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(StatusCodeErrorBodyTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    private static async Task<(string Code, string Message)> ErrorOfAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        return (error.GetProperty("code").GetString()!, error.GetProperty("message").GetString()!);
    }

    [Theory]
    [InlineData("/api/v1/event")]            // a typo of the stream's path
    [InlineData("/api/v2/events")]
    [InlineData("/api/v1/events/head/more")]
    [InlineData("/no-such-page.js")]          // beside the viewer's files
    public async Task A_path_the_hub_does_not_serve_is_a_JSON_not_found(string path)
    {
        using var response = await _http.GetAsync(new Uri(_hub.BaseAddress, path)).WithTimeout();
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var (code, message) = await ErrorOfAsync(response);
        Assert.Equal(ErrorCodes.NotFound, code);
        Assert.Contains(path, message);
        Assert.Contains("/api/v1/events", message);
        Assert.Equal(404, ErrorContract.Find(code)!.HttpStatus);
    }

    [Theory]
    [InlineData("POST", "/api/v1/events")]
    [InlineData("DELETE", "/api/v1/state")]
    [InlineData("PUT", "/api/v1/events/head")]
    [InlineData("POST", "/viewer.js")]         // the viewer's files take GET and HEAD
    [InlineData("DELETE", "/")]
    [InlineData("POST", "/readyz")]            // probes: GET and HEAD
    [InlineData("DELETE", "/healthz")]
    public async Task A_method_the_path_does_not_take_is_a_JSON_method_not_allowed_with_its_Allow_header(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_hub.BaseAddress, path)) { Content = new StringContent("{}") };
        using var response = await _http.SendAsync(request).WithTimeout();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Contains("GET", response.Content.Headers.Allow);
        var (code, message) = await ErrorOfAsync(response);
        Assert.Equal(ErrorCodes.MethodNotAllowed, code);
        Assert.Contains(method, message);
        Assert.Contains("GET", message);
    }

    [Theory]
    [InlineData("GET", "/readyz")]
    [InlineData("HEAD", "/readyz")]
    [InlineData("HEAD", "/healthz")]
    public async Task Probes_take_GET_and_HEAD(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(_hub.BaseAddress, path));
        using var response = await _http.SendAsync(request).WithTimeout();
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable }); // ready or not, never 405
    }

    [Fact]
    public async Task The_metrics_scrape_on_the_management_port_takes_GET_and_HEAD_and_other_methods_get_the_JSON_405()
    {
        var management = EventHub.Storage.LoopbackPorts.Free();
        await using var hub = await HubServer.StartAsync(_db.ConnectionString,
            new Dictionary<string, string?> { ["Management:Urls"] = $"http://127.0.0.1:{management}" });
        var metrics = new Uri($"http://127.0.0.1:{management}/metrics");
        foreach (var method in new[] { "GET", "HEAD" })
        {
            using var read = await _http.SendAsync(new HttpRequestMessage(new HttpMethod(method), metrics)).WithTimeout();
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }
        using var post = await _http.PostAsync(metrics, new StringContent("x")).WithTimeout();
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        Assert.Equal(ErrorCodes.MethodNotAllowed, (await ErrorOfAsync(post)).Code);
    }

    [Fact]
    public async Task The_hubs_own_errors_and_answers_are_left_as_they_were()
    {
        // The endpoint's own 400 keeps its own code.
        using var bad = await _http.GetAsync(new Uri(_hub.BaseAddress, "/api/v1/events?after=nonsense")).WithTimeout();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(ErrorCodes.InvalidOffset, (await ErrorOfAsync(bad)).Code);
        // SignalR's own 404 (a connection id it does not know) keeps its text.
        using var unknownConnection = await _http.PostAsync(new Uri(_hub.BaseAddress, "/hubs/events?id=nobody"), new StringContent("x")).WithTimeout();
        Assert.Equal(HttpStatusCode.NotFound, unknownConnection.StatusCode);
        Assert.NotEqual("application/json", unknownConnection.Content.Headers.ContentType?.MediaType);
        // The viewer is still served.
        using var viewer = await _http.GetAsync(_hub.BaseAddress).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, viewer.StatusCode);
    }
}
