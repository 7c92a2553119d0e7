using System.Diagnostics;
using System.Text.Json;
using EventHub.Cli;
using EventHub.Client.Tests.Infrastructure;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests;

/// <summary>
/// The tool's stdout where a shell puts it: a file that already holds lines and also takes stderr
/// (<c>{ …; eventhub …; } &gt; out 2&gt;&amp;1</c>), a device that refuses the write (a full disk),
/// a pipe whose reader goes (<c>| head</c>). Each runs the built tool under bash.
/// </summary>
public sealed class CliOutputTests(ClientHubFixture fixture) : IClassFixture<ClientHubFixture>
{
    private SourceWriter Writer => fixture.Db.Writer;
    private string Url => fixture.Hub.BaseAddress.ToString();

    [Fact]
    public async Task Redirected_to_a_file_with_stderr_the_output_follows_what_the_file_held_and_every_line_is_whole()
    {
        var p = fixture.NewProject("clf");
        await TwoEntitiesAsync(p);
        var file = Path.Combine(Path.GetTempPath(), $"eventhub-out-{Guid.NewGuid():N}");
        try
        {
            var (exit, _) = await BashAsync(
                $"{{ echo before-1; echo before-2; dotnet '{CliProcess.Dll}' state --url '{Url}' --project {p} --json 2>&1; echo after; }} > '{file}'");

            Assert.Equal(0, exit);
            var lines = await File.ReadAllLinesAsync(file);
            // Each line where the last ended (the tool used to write at a position of its own, from 0:
            // over "before-…", and its stderr line over the first entity).
            Assert.Equal(["before-1", "before-2"], lines[..2]);
            Assert.Equal(["pr", "session"], lines[2..4].Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()));
            Assert.StartsWith("eventhub: 2 entities as of ", lines[4]);
            Assert.Equal(["after"], lines[5..]);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_write_that_fails_for_want_of_space_is_an_error_not_a_reader_that_has_gone()
    {
        var p = fixture.NewProject("cld");
        await TwoEntitiesAsync(p);

        var (exit, stderr) = await BashAsync($"dotnet '{CliProcess.Dll}' state --url '{Url}' --project {p} --json > /dev/full");

        Assert.Equal(EventHubCli.Unreachable, exit);
        Assert.Contains("eventhub: could not write the output: No space left on device", stderr);
    }

    [Fact]
    public async Task A_tail_whose_reader_has_gone_ends_as_done()
    {
        var p = fixture.NewProject("clp");
        await Writer.SessionAsync(p, 1);

        // The tool's own exit code (PIPESTATUS), once head has its line and has gone: the tool's next
        // write fails with EPIPE. What it wrote before head went may sit in the pipe's buffer, so
        // events go on being written until the tool has ended.
        var run = BashAsync(
            $"dotnet '{CliProcess.Dll}' tail --url '{Url}' --project {p} --after 0 --json | head -n 1 > /dev/null; exit ${{PIPESTATUS[0]}}");
        for (var i = 2; !run.IsCompleted && i < 200; i++)
        {
            await Writer.SessionAsync(p, i);
            await Task.WhenAny(run, Task.Delay(100));
        }
        var (exit, stderr) = await run;

        Assert.Equal(0, exit);
        Assert.DoesNotContain("could not write", stderr);
    }

    private async Task TwoEntitiesAsync(string project)
    {
        var s = await Writer.SessionAsync(project, 1);
        await Writer.PrAsync(s, 1);
        using var http = new HttpClient { BaseAddress = fixture.Hub.BaseAddress };
        await http.GetStringAsync("/api/v1/events/head").WithTimeout(); // both writes are in a tick
    }

    /// <summary>Runs <paramref name="script"/> under bash; its exit code and stderr.</summary>
    private static async Task<(int Exit, string Stderr)> BashAsync(string script)
    {
        var info = new ProcessStartInfo("bash") { ArgumentList = { "-c", script }, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WithTimeout();
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        return (process.ExitCode, await stderr);
    }
}
