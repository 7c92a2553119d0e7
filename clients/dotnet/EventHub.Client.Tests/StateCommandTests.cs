using System.Net.Http.Json;
using System.Text.Json;
using EventHub.Cli;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// <c>eventhub state</c>, run in-process through its entry method with captured stdout and stderr:
/// the live state a line per entity, the offset on stderr, and a tail from that offset that brings
/// exactly the later changes.
/// </summary>
public sealed class StateCommandTests(ClientHubFixture fixture) : IClassFixture<ClientHubFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;
    private string Url => fixture.Hub.BaseAddress.ToString();

    private static async Task<(int Exit, LineWriter Out, LineWriter Err)> RunAsync(params string[] args)
    {
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        var exit = await EventHubCli.RunAsync(args, stdout, stderr, useColor: false).WithTimeout();
        return (exit, stdout, stderr);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task The_state_is_a_line_per_entity_and_a_tail_after_its_offset_brings_exactly_the_later_changes(string protocol)
    {
        var p = fixture.NewProject("st");
        var s1 = await Writer.SessionAsync(p, 1);
        await Writer.SessionAsync(p, 2);
        var pr = await Writer.PrAsync(s1, 4);
        await Writer.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        await Writer.CheckAsync(pr, "build", "c1", "failed");
        await Writer.ExecuteAsync("INSERT INTO change_log (project_id, event_type, payload) VALUES (@p, 'tracker_created', '{\"issue\":\"I-1\"}')", new { p });
        using var http = new HttpClient { BaseAddress = fixture.Hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // every write above is in a tick
        var expected = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/state?project={p}").WithTimeout())
            .GetProperty("entities").EnumerateArray()
            .Select(e => (Kind: e.GetProperty("kind").GetString()!, Key: e.GetProperty("key").GetRawText(),
                Type: e.GetProperty("event").GetProperty("type").GetString()!, Seq: e.GetProperty("event").GetProperty("seq").GetInt64()))
            .OrderBy(e => e.Kind, StringComparer.Ordinal).ThenBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(4, expected.Count); // two sessions, the PR, its check

        var (exit, output, error) = await RunAsync("state", "--url", Url, "--project", p, "--json", "--protocol", protocol);

        Assert.Equal(EventHubCli.Ok, exit);
        var lines = output.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(expected, lines.Select(l => (l.GetProperty("kind").GetString()!, l.GetProperty("key").GetRawText(),
            l.GetProperty("event").GetProperty("type").GetString()!, l.GetProperty("event").GetProperty("seq").GetInt64())));
        Assert.Equal("approved", lines.Single(l => l.GetProperty("kind").GetString() == "pr")
            .GetProperty("event").GetProperty("payload").GetProperty("review").GetString());
        Assert.Equal(2, error.Lines.Count);
        Assert.Equal("eventhub: left out, no entity key configured: tracker_created", error.Lines[0]);
        var told = System.Text.RegularExpressions.Regex.Match(error.Lines[1],
            "^eventhub: 4 entities as of (\\S+)\\. Follow the changes with: --after (\\S+)$");
        Assert.True(told.Success, error.Lines[1]);
        var offset = told.Groups[1].Value;
        Assert.Equal(offset, told.Groups[2].Value);

        // The human form: the same entities, one line each.
        var (humanExit, human, _) = await RunAsync("state", "--url", Url, "--project", p, "--protocol", protocol);
        Assert.Equal(EventHubCli.Ok, humanExit);
        Assert.Equal(expected.Select(e => e.Type), human.Lines.Select(l => l.Split("  ")[2]));
        Assert.Contains(human.Lines, l => l.EndsWith($"pr_updated  ci=passing review=approved state=open merge=mergeable  {pr}", StringComparison.Ordinal));

        // After the state's offset, the tail brings the change made after it, and nothing before it.
        await Writer.SessionActivityAsync(s1, "idle");
        var tail = new LineWriter();
        using var stop = new CancellationTokenSource();
        var tailExit = Task.Run(() => EventHubCli.RunAsync(["tail", "--url", Url, "--project", p, "--after", offset, "--json"],
            tail, new LineWriter(), useColor: false, stop.Token));
        var next = JsonDocument.Parse((await tail.ReadLinesAsync(1))[0]).RootElement;
        Assert.Equal("session_updated", next.GetProperty("type").GetString());
        Assert.Equal(s1, next.GetProperty("sessionId").GetString());
        await stop.CancelAsync();
        Assert.Equal(EventHubCli.Ok, await tailExit.WithTimeout());
        Assert.Single(tail.Lines);
    }

    [Theory]
    [InlineData("state", "--bogus")]
    [InlineData("state", "--url", "ftp://hub")]
    [InlineData("state", "--protocol", "xml")]
    [InlineData("state", "--after", "0")] // the state has no offset to start from; it gives one
    public async Task Bad_arguments_give_one_line_pointing_at_the_commands_help_and_exit_2(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);
        Assert.Equal(EventHubCli.Usage, exit);
        var line = Assert.Single(error.Lines);
        Assert.StartsWith("eventhub: ", line);
        Assert.EndsWith("(see 'eventhub state --help')", line);
        Assert.Empty(output.Lines);
    }

    [Fact]
    public async Task A_request_the_hub_rejects_exits_2_and_an_unreachable_hub_exits_1_each_with_one_line()
    {
        var (rejected, _, rejection) = await RunAsync("state", "--url", Url, "--type", "no spaces");
        Assert.Equal(EventHubCli.Usage, rejected);
        Assert.StartsWith("eventhub: The hub rejected the state request (invalid_type): ", Assert.Single(rejection.Lines));
        // Part of an entity kind: the state's type filter selects whole kinds (the stream's does not).
        var (partial, _, partialRejection) = await RunAsync("state", "--url", Url, "--type", "pr_updated");
        Assert.Equal(EventHubCli.Usage, partial);
        Assert.StartsWith("eventhub: The hub rejected the state request (invalid_type): The state's type filter selects whole kinds: " +
            "pr_updated is one of the pr kind's types (pr_created, pr_session_changed, pr_updated); name all of them, or pr_*.",
            Assert.Single(partialRejection.Lines));

        var (unreachable, output, error) = await RunAsync("state", "--url", $"http://127.0.0.1:{EventHubClientTests.FreePort()}");
        Assert.Equal(EventHubCli.Unreachable, unreachable);
        Assert.Matches("^eventhub: Could not fetch the state from the hub at http://127\\.0\\.0\\.1:\\d+/hubs/events: .+ Check the URL and that the hub is running\\.$",
            Assert.Single(error.Lines));
        Assert.Empty(output.Lines);
    }
}
