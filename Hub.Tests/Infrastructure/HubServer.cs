using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using EventHub.Streaming.Internal;

namespace EventHub.Tests.Infrastructure;

/// <summary>The real hub on a real Kestrel server on a free loopback port, against a test database.</summary>
public sealed class HubServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private HubServer(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    public Uri BaseAddress { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<HubServer> StartAsync(string connectionString, IDictionary<string, string?>? settings = null,
        int port = 0, Action<IServiceCollection>? services = null)
    {
        var app = await EventHubApp.BuildAsync([], builder =>
        {
            var values = new Dictionary<string, string?>
            {
                ["ConnectionStrings:EventHub"] = connectionString,
                ["Urls"] = $"http://127.0.0.1:{port}",
                ["Stream:PollInterval"] = "00:00:00.500",
                // Every test's hub shares this process: a full collection at each hub's start would
                // pause every other test (StartupCollectionTests cover it).
                ["StartupCollection:Enabled"] = "false",
                // Nor does a test's hub read the log before its clients do (CatchUpWarmUpTests cover it):
                // tests that count the catch-up pool's sessions or reads would see the warm-up's.
                ["CatchUpWarmUp:Events"] = "0",
                // Nor does it spend its first 2 s of CPU on the live warm-up (LiveWarmUpTests cover it).
                ["LiveWarmUp:Duration"] = "00:00:00",
            };
            foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) values[k] = v;
            builder.Configuration.AddInMemoryCollection(values);
            builder.Logging.ClearProviders();
            builder.Logging.AddFilter(_ => false);
            HubTestLog.AddTo(builder.Logging);
        }, services);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // Tests begin once the tail is publishing, so "from now" means from the test's first write.
        await app.Services.GetRequiredService<ChangeLogTail>().Ready.WaitAsync(TimeSpan.FromSeconds(30));
        return new HubServer(app, new Uri(address));
    }

    public T Get<T>() where T : notnull => _app.Services.GetRequiredService<T>();

    /// <summary>Stops the hub; a second call does nothing (a test may stop it early and time the stop).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await _app.DisposeAsync();
    }
}
