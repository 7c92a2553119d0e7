using System.Text.Json;

namespace EventHub.Tests.Configuration;

/// <summary>Runtime settings the hub's build carries into its runtimeconfig.json (Hub/EventHub.Hub.csproj).</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_hub_limits_how_long_idle_thread_pool_workers_spin()
    {
        // The referenced hub's runtimeconfig is copied beside the tests; the deployed hub reads the same file.
        var path = Path.Combine(AppContext.BaseDirectory, "EventHub.Hub.runtimeconfig.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(10, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
