using System.Globalization;
using System.Text.RegularExpressions;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// Issue 9, point 4: the hub's OpenTelemetry metrics are exported for Prometheus at <c>/metrics</c>
/// on the management port (issue 12: <c>Management:Urls</c>; project names with <c>Metrics:ProjectLabels</c>).
/// A hub process of its own, so that no other hub of the test run adds to its numbers.
/// </summary>
public sealed partial class MetricsTests
{
    [Fact]
    public async Task Metrics_are_scraped_at_slash_metrics_with_plausible_values_after_streaming()
    {
        await using var db = await TestDatabase.CreateAsync("metrics");
        const string p = "metrics";
        await db.Writer.ProjectAsync(p);
        for (var i = 0; i < 3; i++) await db.Writer.SessionAsync(p, i);
        var managementPort = HubProcess.FreePort();
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(), new Dictionary<string, string>
        {
            ["Management__Urls"] = $"http://127.0.0.1:{managementPort}",
            ["Metrics__ProjectLabels"] = "true",
        });
        await using var reader = new ClientReader(new EventHubClient(new EventHubClientOptions
        {
            HubUrl = hub.BaseAddress, Projects = [p], StartAfter = "0",
        }));
        var total = (int)await db.ChangeLogCountAsync();
        await reader.ReadAsync(total); // catch-up
        for (var i = 10; i < 13; i++) await db.Writer.SessionAsync(p, i);
        await reader.ReadAsync(3); // live, published by the tail
        total += 3;

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{managementPort}"), Timeout = TimeSpan.FromSeconds(10) };
        // The exporter caches a scrape briefly: scrape until it shows every delivery (bounded).
        string text = "";
        await TaskTimeouts.UntilAsync(() =>
        {
            text = http.GetStringAsync("/metrics").GetAwaiter().GetResult();
            return Value(text, "eventhub_events_delivered_total", "transport=\"signalr\"") >= total;
        }, because: "the delivered counter did not reach the number of events streamed");

        Assert.Equal(total, Value(text, "eventhub_events_delivered_total", "transport=\"signalr\""));
        Assert.Equal(1, Value(text, "eventhub_connections", "transport=\"signalr\""));
        Assert.Equal(1, Value(text, "eventhub_streams_active", "transport=\"signalr\""));
        Assert.Equal(1, Value(text, "eventhub_subscribers", $"project=\"{p}\""));
        Assert.Equal(0, Value(text, "eventhub_subscribers", "project=\"*\""));
        Assert.True(Value(text, "eventhub_catchup_reads_total", "source=\"window\"") + Value(text, "eventhub_catchup_reads_total", "source=\"log\"") >= 1);
        Assert.Equal(0, Value(text, "eventhub_slow_consumer_lagged_total", null));
        Assert.InRange(Value(text, "eventhub_tail_lag_events", null), 0, total);
        Assert.InRange(Value(text, "eventhub_tail_lag_milliseconds", null), 0, 60_000);
    }

    /// <summary>The value of the first sample of <paramref name="metric"/> whose labels contain <paramref name="label"/>.</summary>
    internal static double Value(string scrape, string metric, string? label)
    {
        foreach (Match m in Sample().Matches(scrape))
        {
            if (m.Groups["name"].Value != metric) continue;
            if (label is not null && !m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)) continue;
            return double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        throw new Xunit.Sdk.XunitException($"No sample of {metric} {label} in:\n{string.Join('\n', scrape.Split('\n').Where(l => l.StartsWith("eventhub", StringComparison.Ordinal)))}");
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex Sample();
}
