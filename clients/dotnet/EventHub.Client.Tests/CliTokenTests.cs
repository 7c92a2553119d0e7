using System.Text.Json;
using EventHub.Cli;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// <c>eventhub</c> against a hub in token mode: a token from <c>--token</c>, <c>$EVENTHUB_TOKEN</c> or
/// <c>--token-file</c> (read again on every connection, so a tail outlives the token it began with
/// when a refresher rewrites the file); without one, one line that says how to give it.
/// </summary>
public sealed class CliTokenTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private string Url => _hub.BaseAddress.ToString();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("cli_token");
        _hub = await HubServer.StartAsync(_db.ConnectionString, TestTokens.TokenModeSettings());
        await _db.Writer.ProjectAsync("ao");
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Without_a_token_the_tool_says_how_to_give_one_and_exits_2()
    {
        var stderr = new LineWriter();
        var exit = await EventHubCli.RunAsync(["state", "--url", Url, "--project", "ao"], new LineWriter(), stderr, useColor: false).WithTimeout();

        Assert.Equal(EventHubCli.Usage, exit);
        var line = Assert.Single(stderr.Lines);
        Assert.Contains("(unauthenticated)", line);
        Assert.EndsWith("A hub in token mode needs a valid bearer token: give it with --token-file, $EVENTHUB_TOKEN or --token.", line);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("expired-file")]
    public async Task A_tail_without_a_usable_token_says_so_in_one_line_and_exits_2(string token)
    {
        // Before, two lines: a "connection lost (unauthenticated); reconnecting…" (or "the token
        // expired; reconnecting…") for a stream that never went live, then the refusal.
        var args = new List<string> { "tail", "--url", Url, "--project", "ao", "--after", "0" };
        var file = Path.GetTempFileName();
        try
        {
            if (token == "expired-file")
            {
                await File.WriteAllTextAsync(file, TestTokens.Mint(["ao"], TimeSpan.FromMinutes(-1)));
                args.AddRange(["--token-file", file]);
            }
            var stderr = new LineWriter();
            var exit = await EventHubCli.RunAsync([.. args], new LineWriter(), stderr, useColor: false).WithTimeout();

            Assert.Equal(EventHubCli.Usage, exit);
            var line = Assert.Single(stderr.Lines);
            Assert.Contains(token == "none" ? "(unauthenticated)" : "(token_expired)", line);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_state_reads_with_a_token_given_as_an_argument()
    {
        await _db.Writer.SessionAsync("ao", 1);
        // The state holds what is in a tick; the head offset waits until the write is in one (a
        // read at once could come before the ticker's next look, and miss it).
        using (var http = new HttpClient { BaseAddress = _hub.BaseAddress })
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestTokens.Mint(["ao"]));
            await http.GetStringAsync("/api/v1/events/head").WithTimeout();
        }
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        var exit = await EventHubCli.RunAsync(["state", "--url", Url, "--project", "ao", "--json", "--token", TestTokens.Mint(["ao"])],
            stdout, stderr, useColor: false).WithTimeout();

        Assert.True(exit == EventHubCli.Ok, string.Join('\n', stderr.Lines));
        Assert.Contains(stdout.Lines, l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetProperty("sessionId").GetString() == "ao-1");
    }

    [Fact]
    public async Task The_tail_reads_with_a_token_from_EVENTHUB_TOKEN()
    {
        await using var tool = CliProcess.Start(new Dictionary<string, string> { ["EVENTHUB_TOKEN"] = TestTokens.Mint(["ao"]) },
            "tail", "--url", Url, "--project", "ao", "--after", "0", "--json");
        await _db.Writer.SessionAsync("ao", 2);
        var line = JsonDocument.Parse((await tool.Out.ReadLinesAsync(1))[0]).RootElement;
        Assert.Equal("ao-2", line.GetProperty("sessionId").GetString());
        Assert.Equal(0, await tool.StopAsync());
    }

    [Fact]
    public async Task A_tail_reads_its_token_file_again_on_reconnecting_and_outlives_the_token_it_began_with()
    {
        var file = Path.Combine(Path.GetTempPath(), $"eventhub-token-{Guid.NewGuid():N}");
        try
        {
            // exp has whole seconds: the first token lives 7-8 s, long enough for the tool's start and
            // the first event on a loaded machine (the file must be replaced before it expires).
            await File.WriteAllTextAsync(file, TestTokens.Mint(["ao"], TimeSpan.FromSeconds(8)) + "\n");
            var stdout = new LineWriter();
            var stderr = new LineWriter();
            using var stop = new CancellationTokenSource();
            var run = Task.Run(() => EventHubCli.RunAsync(["tail", "--url", Url, "--project", "ao", "--after", "0", "--json", "--token-file", file],
                stdout, stderr, useColor: false, stop.Token));
            await _db.Writer.SessionAsync("ao", 3);
            Assert.Equal("ao-3", JsonDocument.Parse((await stdout.ReadLinesAsync(1))[0]).RootElement.GetProperty("sessionId").GetString());

            // The refresher's new token; the first one expires meanwhile and the hub ends the stream.
            // Read once at the start, the expired token would be refused again: the tool would stop.
            await File.WriteAllTextAsync(file + ".new", TestTokens.Mint(["ao"]));
            File.Move(file + ".new", file, overwrite: true); // as a refresher should: the tool never reads half a file
            // A routine refresh, not a lost connection.
            Assert.Equal(["eventhub: the token expired; reconnecting with a fresh one…"], await stderr.ReadLinesAsync(1));
            await _db.Writer.SessionAsync("ao", 4);
            var next = JsonDocument.Parse((await stdout.ReadLinesAsync(1))[0]).RootElement;
            Assert.Equal("ao-4", next.GetProperty("sessionId").GetString());

            await stop.CancelAsync();
            Assert.Equal(EventHubCli.Ok, await run.WithTimeout());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_tail_that_stops_on_its_tokens_expiry_says_where_to_resume()
    {
        // --token is the same token on every connection: at its expiry the tail stops (exit 2).
        await _db.Writer.SessionAsync("ao", 5);
        var stdout = new LineWriter();
        var stderr = new LineWriter();
        // exp has whole seconds: 3-4 s, room for the tool's start and the first event on a loaded machine.
        var run = Task.Run(() => EventHubCli.RunAsync(
            ["tail", "--url", Url, "--project", "ao", "--after", "0", "--json", "--token", TestTokens.Mint(["ao"], TimeSpan.FromSeconds(4))],
            stdout, stderr, useColor: false));
        await stdout.ReadLinesAsync(1);

        Assert.Equal(EventHubCli.Usage, await run.WithTimeout());
        Assert.Contains(stderr.Lines, l => l.Contains("(token_expired)", StringComparison.Ordinal));
        var last = JsonDocument.Parse(stdout.Lines[^1]).RootElement.GetProperty("offset").GetString();
        Assert.Equal($"eventhub: resume with: --after {last}", stderr.Lines[^1]);
    }

    [Fact]
    public async Task Help_does_not_print_the_token_from_EVENTHUB_TOKEN()
    {
        await using var tool = CliProcess.Start(new Dictionary<string, string> { ["EVENTHUB_TOKEN"] = "secret-token-value" }, "tail", "--help");
        Assert.Equal(0, await tool.ExitAsync());
        Assert.Contains(tool.Out.Lines, l => l.Contains("--token", StringComparison.Ordinal));
        Assert.DoesNotContain(tool.Out.Lines.Concat(tool.Err.Lines), l => l.Contains("secret-token-value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_token_file_that_does_not_exist_is_a_usage_error()
    {
        var stderr = new LineWriter();
        var exit = await EventHubCli.RunAsync(["tail", "--url", Url, "--token-file", "/nonexistent/token"], new LineWriter(), stderr, useColor: false).WithTimeout();
        Assert.Equal(EventHubCli.Usage, exit);
        Assert.Contains("--token-file '/nonexistent/token' does not exist.", Assert.Single(stderr.Lines));
    }
}
