using System.Text.Json;
using Dapper;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// <c>eventhub tail</c> in a process of its own, against a real hub. The tool is built with
/// reflection-based JSON off, as a trimmed or native AOT application (or a file-based app) runs,
/// so these tests are the end-to-end proof that the client works there: before its JSON metadata
/// was generated (ClientJsonContext), the stream request failed to serialize on every attempt and
/// the client retried forever, printing nothing.
/// </summary>
public sealed class CliProcessTests(ClientHubFixture fixture) : IClassFixture<ClientHubFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;
    private string Url => fixture.Hub.BaseAddress.ToString();

    [Fact]
    public void The_tool_is_built_without_reflection_based_json()
    {
        var config = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(CliProcess.Dll, ".runtimeconfig.json"))).RootElement;
        Assert.False(config.GetProperty("runtimeOptions").GetProperty("configProperties")
            .GetProperty("System.Text.Json.JsonSerializer.IsReflectionEnabledByDefault").GetBoolean());
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task The_tool_streams_the_log_and_stops_on_sigterm_with_the_offset_to_resume_from(string protocol)
    {
        var p = fixture.NewProject("cli");
        await using var tool = CliProcess.Start("tail", "--url", Url, "--project", p, "--after", "0", "--json", "--protocol", protocol);
        var s = await Writer.SessionAsync(p, 1);
        await Writer.PrAsync(s, 1);
        await Writer.SessionActivityAsync(s, "blocked", terminated: true);

        var lines = (await tool.Out.ReadLinesAsync(3)).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        Assert.Equal(await LoggedAsync(p), lines.Select(l => (l.GetProperty("seq").GetInt64(), l.GetProperty("type").GetString()!)));
        var last = lines[^1].GetProperty("offset").GetString();
        Assert.Equal(0, await tool.StopAsync());
        Assert.Equal([$"eventhub: stopped. Resume with: --after {last}"], tool.Err.Lines);
    }

    [Fact]
    public async Task An_offset_from_another_log_is_reported_as_a_reset_and_the_tool_goes_on()
    {
        var p = fixture.NewProject("clr");
        var foreign = await ForeignLog.OffsetAsync();
        await using var tool = CliProcess.Start("tail", "--url", Url, "--project", p, "--after", foreign, "--json");

        // The reset item's payload is built by the client (StreamReset), also without reflection.
        var reset = JsonDocument.Parse((await tool.Out.ReadLinesAsync(1))[0]).RootElement;
        Assert.Equal(StreamReset.EventType, reset.GetProperty("type").GetString());
        Assert.Equal(StreamReset.Reasons.OffsetFromAnotherLog, reset.GetProperty("payload").GetProperty("reason").GetString());
        Assert.StartsWith($"eventhub: the hub reset the stream (offset_from_another_log): events between {foreign} and ",
            (await tool.Err.ReadLinesAsync(1))[0]);
        await Writer.SessionAsync(p, 1);
        var line = JsonDocument.Parse((await tool.Out.ReadLinesAsync(1))[0]).RootElement;
        Assert.Equal(("session_created", p), (line.GetProperty("type").GetString(), line.GetProperty("projectId").GetString()));
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task The_tool_prints_the_state_from_the_hubs_pages_and_the_offset_to_tail_from(string protocol)
    {
        var p = fixture.NewProject("cls");
        var s = await Writer.SessionAsync(p, 1);
        await Writer.PrAsync(s, 1);
        using var http = new HttpClient { BaseAddress = fixture.Hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // both writes are in a tick

        await using var tool = CliProcess.Start("state", "--url", Url, "--project", p, "--json", "--protocol", protocol);

        Assert.Equal(0, await tool.ExitAsync());
        var lines = tool.Out.Lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal([("pr", "pr_created"), ("session", "session_created")],
            lines.Select(l => (l.GetProperty("kind").GetString(), l.GetProperty("event").GetProperty("type").GetString())));
        Assert.Matches("^eventhub: 2 entities as of \\S+\\. Follow the changes with: --after \\S+$", Assert.Single(tool.Err.Lines));
    }

    private async Task<List<(long Seq, string Type)>> LoggedAsync(string project)
    {
        await using var c = await fixture.Db.DataSource.OpenConnectionAsync();
        return (await c.QueryAsync<(long, string)>(
            "SELECT seq, event_type FROM change_log WHERE project_id = @project ORDER BY seq", new { project })).ToList();
    }
}
