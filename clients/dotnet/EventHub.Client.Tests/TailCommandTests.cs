using System.Globalization;
using System.Text.Json;
using Dapper;
using EventHub.Cli;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary><c>eventhub tail</c>, run in-process through its entry method with captured stdout and stderr.</summary>
public sealed class TailCommandTests(ClientHubFixture fixture) : IClassFixture<ClientHubFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;
    private string Url => fixture.Hub.BaseAddress.ToString();

    private sealed record Run(Task<int> Exit, LineWriter Out, LineWriter Err, CancellationTokenSource Stop) : IDisposable
    {
        public void Dispose() => Stop.Dispose();
    }

    private static Run Start(params string[] args)
    {
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        var stop = new CancellationTokenSource();
        var exit = Task.Run(() => EventHubCli.RunAsync(args, stdout, stderr, useColor: false, stop.Token));
        return new Run(exit, stdout, stderr, stop);
    }

    [Fact]
    public async Task Human_lines_show_time_project_session_type_and_the_payloads_gist()
    {
        var p = fixture.NewProject("ao");
        using var run = Start("tail", "--url", Url, "--project", p, "--after", "0");
        var s = await Writer.SessionAsync(p, 3);
        var pr = await Writer.PrAsync(s, 12);
        await Writer.PrStateAsync(pr, ci: "passing", review: "approved", mergeability: "mergeable");
        await Writer.CheckAsync(pr, "build", "abc123", "failed");
        await Writer.ThreadAsync(pr, "T9", "src/x.cs", 7, isBot: true);

        var lines = await run.Out.ReadLinesAsync(5);

        var times = await LoggedTimesAsync(p);
        Assert.Equal(
        [
            $"{times[0]}  {p}/{s}  session_created  activity=active",
            $"{times[1]}  {p}/{s}  pr_created  ci=pending review=none state=open merge=unknown  {pr}",
            $"{times[2]}  {p}/{s}  pr_updated  ci=passing review=approved state=open merge=mergeable  {pr}",
            $"{times[3]}  {p}/{s}  pr_check_recorded  check=build status=failed commit=abc123  {pr}",
            $"{times[4]}  {p}/{s}  pr_review_thread_added  thread=T9 at=src/x.cs:7 bot  {pr}",
        ], lines);
        Assert.DoesNotContain(lines, l => l.Contains('\u001b'));

        await run.Stop.CancelAsync();
        Assert.Equal(0, await run.Exit.WithTimeout());
    }

    [Fact]
    public async Task Json_lines_carry_the_contract_fields_and_ctrl_c_prints_the_offset_that_resumes_exactly_after_them()
    {
        var p = fixture.NewProject("js");
        string lastOffset;
        using (var run = Start("tail", "--url", Url, "--project", p, "--type", "session_*", "--after", "0", "--json", "--protocol", "messagepack"))
        {
            var s = await Writer.SessionAsync(p, 1);
            await Writer.PrAsync(s, 1); // filtered out by --type
            await Writer.SessionActivityAsync(s, "blocked", terminated: true);
            var lines = (await run.Out.ReadLinesAsync(2)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

            await using var c = await fixture.Db.DataSource.OpenConnectionAsync();
            var logged = (await c.QueryAsync<(long Seq, string? Session, string Type, string Payload)>(
                "SELECT seq, session_id, event_type, payload::text FROM change_log WHERE project_id = @p AND event_type LIKE 'session_%' ORDER BY seq",
                new { p })).ToList();
            Assert.Equal(logged.Count, lines.Count);
            for (var i = 0; i < lines.Count; i++)
            {
                var line = lines[i];
                Assert.Equal(["createdAt", "offset", "payload", "projectId", "seq", "sessionId", "type"],
                    line.EnumerateObject().Select(x => x.Name).Order());
                Assert.Equal(logged[i].Seq, line.GetProperty("seq").GetInt64());
                Assert.Equal(p, line.GetProperty("projectId").GetString());
                Assert.Equal(logged[i].Session, line.GetProperty("sessionId").GetString());
                Assert.Equal(logged[i].Type, line.GetProperty("type").GetString());
                Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(logged[i].Payload).RootElement, line.GetProperty("payload")));
                Assert.EndsWith("Z", line.GetProperty("createdAt").GetString());
            }
            lastOffset = lines[^1].GetProperty("offset").GetString()!;

            await run.Stop.CancelAsync(); // what Ctrl+C does
            Assert.Equal(0, await run.Exit.WithTimeout());
            Assert.Equal([$"eventhub: stopped. Resume with: --after {lastOffset}"], run.Err.Lines);
            Assert.Equal(2, run.Out.Lines.Count); // stdout holds events only
        }

        // The printed offset resumes right after the last line: the next event is a new one.
        await Writer.SessionAsync(p, 2);
        using var resumed = Start("tail", "--url", Url, "--project", p, "--after", lastOffset, "--json");
        var next = JsonDocument.Parse((await resumed.Out.ReadLinesAsync(1))[0]).RootElement;
        Assert.Equal(("session_created", $"{p}-2"), (next.GetProperty("type").GetString(), next.GetProperty("sessionId").GetString()));
        await resumed.Stop.CancelAsync();
        Assert.Equal(0, await resumed.Exit.WithTimeout());
    }

    [Theory]
    [InlineData("tail", "--bogus")]
    [InlineData("tail", "--url", "not a url")]
    [InlineData("tail", "--url", "ftp://hub")]
    [InlineData("tail", "--after")]
    [InlineData("tail", "--protocol", "xml")]
    [InlineData("tial")]
    [InlineData]
    public async Task Bad_arguments_give_one_line_on_stderr_and_exit_2(params string[] args)
    {
        using var run = Start(args);
        Assert.Equal(EventHubCli.Usage, await run.Exit.WithTimeout());
        var error = Assert.Single(run.Err.Lines);
        Assert.StartsWith("eventhub: ", error);
        Assert.Empty(run.Out.Lines);
    }

    [Fact]
    public async Task An_unknown_command_is_named_as_such()
    {
        using var run = Start("tial");
        Assert.Equal(EventHubCli.Usage, await run.Exit.WithTimeout());
        Assert.Equal("eventhub: Unrecognized command or argument 'tial'. (see 'eventhub --help')", Assert.Single(run.Err.Lines));
    }

    [Fact]
    public async Task A_bad_url_from_EVENTHUB_URL_is_blamed_on_the_variable()
    {
        await using var tool = CliProcess.Start(new Dictionary<string, string> { ["EVENTHUB_URL"] = "notaurl" }, "tail");
        Assert.Equal(EventHubCli.Usage, await tool.ExitAsync());
        Assert.StartsWith("eventhub: $EVENTHUB_URL 'notaurl' is not an http:// or https:// URL", Assert.Single(tool.Err.Lines));
    }

    [Fact]
    public async Task An_unreachable_hub_gives_one_line_and_exit_1()
    {
        using var run = Start("tail", "--url", $"http://127.0.0.1:{EventHubClientTests.FreePort()}");
        Assert.Equal(EventHubCli.Unreachable, await run.Exit.WithTimeout());
        var error = Assert.Single(run.Err.Lines);
        Assert.Matches("^eventhub: Could not connect to the hub at http://127\\.0\\.0\\.1:\\d+/hubs/events: .+ Check the URL and that the hub is running\\.$", error);
        Assert.DoesNotContain("   at ", error);
        Assert.Empty(run.Out.Lines);
    }

    [Fact]
    public async Task An_offset_the_hub_rejects_gives_one_line_with_its_code_and_exit_2()
    {
        using var run = Start("tail", "--url", Url, "--after", "garbage");
        Assert.Equal(EventHubCli.Usage, await run.Exit.WithTimeout());
        Assert.StartsWith("eventhub: The hub rejected the stream request (invalid_offset): ", Assert.Single(run.Err.Lines));
    }

    [Theory]
    [InlineData(false, null, "xterm", true)]
    [InlineData(true, null, "xterm", false)]
    [InlineData(false, "1", "xterm", false)]
    [InlineData(false, "", "xterm", true)]
    [InlineData(false, null, "dumb", false)]
    public void Colour_is_used_only_on_a_terminal_without_NO_COLOR(bool redirected, string? noColor, string? term, bool expected) =>
        Assert.Equal(expected, ColorMode.ShouldUseColor(redirected, noColor, term));

    [Fact]
    public void A_coloured_line_colours_the_type_by_family_and_an_event_cannot_inject_escape_sequences()
    {
        var evt = new Contracts.ChangeEvent
        {
            ProjectId = "ao", SessionId = "ao-3", Type = "tracker_issue_opened", Offset = "x",
            CreatedAt = new DateTimeOffset(2026, 6, 5, 10, 0, 0, TimeSpan.Zero),
            Payload = JsonDocument.Parse("{\"title\":\"\\u001b[2Jboom\"}").RootElement,
        };
        var plain = EventFormatter.Human(evt, color: false);
        Assert.DoesNotContain('\u001b', plain);
        Assert.EndsWith("tracker_issue_opened  {\"title\":\"\\u001b[2Jboom\"}", plain);

        var session = new SessionUpdated { ProjectId = "ao", SessionId = "ao-3", Type = "session_updated", Activity = "idle\u001b[31m" };
        var coloured = EventFormatter.Human(session, color: true);
        Assert.Contains("\u001b[36msession_updated\u001b[0m", coloured);
        Assert.EndsWith("activity=idle?[31m", coloured);
    }

    /// <summary>The project's events' times as tail prints them (local HH:mm:ss), in log order.</summary>
    private async Task<List<string>> LoggedTimesAsync(string project)
    {
        await using var c = await fixture.Db.DataSource.OpenConnectionAsync();
        var times = await c.QueryAsync<DateTime>("SELECT created_at FROM change_log WHERE project_id = @project ORDER BY seq", new { project });
        return times.Select(t => new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)).ToLocalTime()
            .ToString("HH:mm:ss", CultureInfo.InvariantCulture)).ToList();
    }
}
