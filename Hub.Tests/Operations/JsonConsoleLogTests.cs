using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Operations;

/// <summary>
/// With the console's JSON formatter, standard output is JSON lines only: a collector that parses
/// it finds no plain text between the records (the start-up banner is a record of its own then).
/// </summary>
public sealed class JsonConsoleLogTests
{
    [Fact]
    public async Task With_the_json_console_formatter_every_line_the_hub_prints_on_standard_output_is_a_JSON_record_the_banner_included()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = HubProcess.FreePort();
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, port,
            new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "json" });
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            await http.GetStringAsync("/healthz").WithTimeout();
        await hub.StopAsync(); // everything it printed has been read once the process is gone

        var lines = hub.StdoutLines.Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);
        var records = lines.Select(line =>
        {
            try { return JsonDocument.Parse(line).RootElement; }
            catch (JsonException) { throw new Xunit.Sdk.XunitException($"Not a JSON line on standard output: {line}"); }
        }).ToList();
        var banner = Assert.Single(records, r => r.GetProperty("EventId").GetInt32() == 9004);
        Assert.Contains($"http://127.0.0.1:{port}", banner.GetProperty("Message").GetString());
        Assert.Contains("curl -N", banner.GetProperty("Message").GetString());
    }
}
