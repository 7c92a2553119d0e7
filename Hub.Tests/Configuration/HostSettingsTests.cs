using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EventHub.Tests.Configuration;

/// <summary>The host's own settings as the hub builds them (no database is contacted: the host is built, not started).</summary>
public sealed class HostSettingsTests
{
    [Fact]
    public async Task The_hosted_services_stop_together_unless_configured_otherwise()
    {
        Assert.True((await HostOptionsAsync([])).ServicesStopConcurrently); // SilentConnectionLossTests says why
        Assert.False((await HostOptionsAsync(new() { ["servicesStopConcurrently"] = "false" })).ServicesStopConcurrently);
        Assert.False((await HostOptionsAsync(new() { ["HostOptions:ServicesStopConcurrently"] = "false" })).ServicesStopConcurrently);
    }

    [Fact]
    public async Task The_shutdown_timeout_is_read_from_the_HostOptions_section_as_deploy_md_says_and_from_the_hosts_own_key()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), (await HostOptionsAsync([])).ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(120), (await HostOptionsAsync(new() { ["shutdownTimeoutSeconds"] = "120" })).ShutdownTimeout);
        Assert.Equal(TimeSpan.FromSeconds(120), (await HostOptionsAsync(new() { ["HostOptions:ShutdownTimeout"] = "00:02:00" })).ShutdownTimeout);
    }

    private static async Task<HostOptions> HostOptionsAsync(Dictionary<string, string?> settings)
    {
        settings["ConnectionStrings:EventHub"] = "Host=127.0.0.1;Port=1;Database=none";
        await using var app = await EventHubApp.BuildAsync([], b => b.Configuration.AddInMemoryCollection(settings));
        return app.Services.GetRequiredService<IOptions<HostOptions>>().Value;
    }
}
