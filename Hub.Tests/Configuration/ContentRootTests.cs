using EventHub.Configuration;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;

namespace EventHub.Tests.Configuration;

/// <summary>
/// The built hub reads the <c>appsettings.json</c> beside it from any working directory, and an
/// operator's own file (or content root) still wins (<see cref="HubContentRoot"/>).
/// </summary>
public sealed class ContentRootTests
{
    [Fact]
    public async Task The_built_hub_started_from_another_directory_reads_the_settings_beside_it()
    {
        // Its appsettings.json keeps the framework's logs at Warning: a request logs no "Request starting".
        using var elsewhere = new TempDirectory();
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(), workingDirectory: elsewhere.Path);
        await GetHealthAndStopAsync(hub);
        var hubDirectory = Path.GetDirectoryName(HubProcess.HubDll)!;
        Assert.Contains($"Content root path: {hubDirectory}", hub.Log);
        Assert.DoesNotContain("Request starting", hub.Log);
    }

    [Fact]
    public async Task A_working_directory_with_its_own_settings_file_keeps_it()
    {
        using var own = new TempDirectory();
        File.WriteAllText(Path.Combine(own.Path, "appsettings.json"),
            """{ "Logging": { "LogLevel": { "Default": "Information", "Microsoft.AspNetCore.Hosting.Diagnostics": "Information" } } }""");
        await using var db = await TestDatabase.CreateAsync();
        await using var hub = await HubProcess.StartAsync(db.ConnectionString, HubProcess.FreePort(), workingDirectory: own.Path);
        await GetHealthAndStopAsync(hub);
        Assert.Contains($"Content root path: {own.Path}", hub.Log);
        Assert.Contains("Request starting", hub.Log);
    }

    [Theory]
    [InlineData(false, true, null, "hub")]        // started elsewhere: the hub's directory
    [InlineData(true, true, null, null)]          // the working directory has its own file
    [InlineData(false, false, null, null)]        // nothing beside the hub either
    [InlineData(false, true, "/srv/eventhub", null)] // a content root given: the host takes it
    public void The_content_root_is_the_hubs_directory_only_when_nothing_else_says_where_the_settings_are(
        bool workingDirectoryHasSettings, bool hubDirectoryHasSettings, string? contentRoot, string? expected)
    {
        using var working = new TempDirectory();
        using var hubDirectory = new TempDirectory();
        if (workingDirectoryHasSettings) File.WriteAllText(Path.Combine(working.Path, "appsettings.json"), "{}");
        if (hubDirectoryHasSettings) File.WriteAllText(Path.Combine(hubDirectory.Path, "appsettings.json"), "{}");
        var hostSettings = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["contentRoot"] = contentRoot })
            .Build();
        Assert.Equal(expected is null ? null : hubDirectory.Path, HubContentRoot.Choose(hostSettings, working.Path, hubDirectory.Path));
    }

    [Theory]
    [InlineData("--contentRoot", "/srv/eventhub")]
    [InlineData("--contentroot=/srv/eventhub")]
    public void A_content_root_on_the_command_line_is_left_to_the_host(params string[] args) =>
        Assert.Null(HubContentRoot.Choose(args));

    /// <summary>One request, then a stop: the process's whole output is read once it has exited.</summary>
    private static async Task GetHealthAndStopAsync(HubProcess hub)
    {
        using (var http = new HttpClient { BaseAddress = hub.BaseAddress })
            (await http.GetAsync("/healthz")).EnsureSuccessStatusCode();
        await hub.StopAsync();
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("eventhub-content-root-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
