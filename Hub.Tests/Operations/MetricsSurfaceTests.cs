using System.Net;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Operations;

/// <summary>
/// /metrics is an operator's surface: it lives on the management port only, and names no project
/// unless the operator asks for project labels (issue 12, point 4).
/// </summary>
// OpenTelemetry's meter listener is process-wide: beside the parallel tests a scrape of this
// test's hub also collects other hubs' EventHub meters (and drops duplicate instruments), so the
// subscribers gauge it waits for could be another hub's (as TailLagTests met in CI).
[Collection(AloneCollection.Name)]
public sealed class MetricsSurfaceTests
{
    private static async Task<(HubServer Hub, Uri Management)> StartAsync(TestDatabase db, bool projectLabels = false)
    {
        var port = LoopbackPorts.Free();
        var settings = new Dictionary<string, string?> { ["Management:Urls"] = $"http://127.0.0.1:{port}" };
        if (projectLabels) settings["Metrics:ProjectLabels"] = "true";
        var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        return (hub, new Uri($"http://127.0.0.1:{port}"));
    }

    [Fact]
    public async Task Metrics_are_served_on_the_management_port_and_not_on_the_main_port_even_with_a_forged_Host()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (hub, management) = await StartAsync(db);
        await using var _ = hub;
        using var http = new HttpClient();

        var scrape = await http.GetAsync(new Uri(management, "/metrics")).WithTimeout();
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        var body = await scrape.Content.ReadAsStringAsync();
        Assert.Contains("eventhub_", body);
        // Named as docs/deploy.md lists it (the exporter derives the suffix from the unit).
        Assert.Matches(@"(?m)^eventhub_signalr_queued_bytes(\{[^}]*\})? 0", body);

        using (var onPublic = await http.GetAsync(new Uri(hub.BaseAddress, "/metrics")).WithTimeout())
        {
            Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
            Assert.Contains("served on the management port only (Management:Urls)", await onPublic.Content.ReadAsStringAsync());
        }

        // Host routing alone would be fooled by a client naming the management port.
        using var forged = new HttpRequestMessage(HttpMethod.Get, new Uri(hub.BaseAddress, "/metrics"));
        forged.Headers.Host = $"127.0.0.1:{management.Port}";
        Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(forged).WithTimeout()).StatusCode);

        // The management port serves nothing of the public surface.
        using (var api = await http.GetAsync(new Uri(management, "/api/v1/events/head")).WithTimeout())
        {
            Assert.Equal(HttpStatusCode.NotFound, api.StatusCode);
            // Not the public port's message, which would list /api/v1/events/head among what is served.
            Assert.Contains("on the management port (Management:Urls): it serves only /metrics", await api.Content.ReadAsStringAsync());
        }
        // Health stays on the main port.
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(hub.BaseAddress, "/healthz")).WithTimeout()).StatusCode);
    }

    [Fact]
    public async Task By_default_the_subscribers_metric_names_no_project()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (hub, management) = await StartAsync(db);
        await using var _ = hub;
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=customer-acme-secret");
        using var http = new HttpClient();

        // The exporter caches a scrape briefly, so an early one can predate the stream: wait for
        // the scrape that counts it (under the aggregate label), and check every scrape seen.
        var scrapes = new List<string>();
        await TaskTimeouts.UntilAsync(() =>
        {
            var metrics = http.GetStringAsync(new Uri(management, "/metrics")).GetAwaiter().GetResult();
            scrapes.Add(metrics);
            return System.Text.RegularExpressions.Regex.IsMatch(metrics, @"eventhub_subscribers\{[^}]*project=""project""[^}]*\} 1");
        }, because: "the scrape counts the stream under the aggregate label \"project\"");
        Assert.All(scrapes, m => Assert.DoesNotContain("customer-acme-secret", m));
    }

    [Fact]
    public async Task With_project_labels_enabled_the_subscribers_metric_names_each_project()
    {
        await using var db = await TestDatabase.CreateAsync();
        var (hub, management) = await StartAsync(db, projectLabels: true);
        await using var _ = hub;
        await using var sse = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=customer-acme");
        using var http = new HttpClient();

        await TaskTimeouts.UntilAsync(() =>
            http.GetStringAsync(new Uri(management, "/metrics")).GetAwaiter().GetResult()
                .Contains("project=\"customer-acme\"", StringComparison.Ordinal),
            because: "the subscribers gauge names the project when project labels are on");
    }

    [Fact]
    public async Task In_open_mode_a_management_port_on_a_network_address_is_refused_like_any_listen_address()
    {
        await using var db = await TestDatabase.CreateAsync();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Management:Urls"] = $"http://0.0.0.0:{LoopbackPorts.Free()}" }));
        Assert.Contains("0.0.0.0", string.Join(" ", error.Failures));
    }

    [Fact]
    public async Task A_management_port_that_is_also_a_public_port_is_refused()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = LoopbackPorts.Free();
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HubServer.StartAsync(db.ConnectionString,
            new Dictionary<string, string?> { ["Management:Urls"] = $"http://127.0.0.1:{port}" }, port: port));
        Assert.Contains("Management:Urls", string.Join(" ", error.Failures));
    }
}
