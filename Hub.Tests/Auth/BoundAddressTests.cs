using System.Net;
using System.Net.Sockets;
using EventHub.Auth;
using EventHub.Storage;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EventHub.Tests.Auth;

/// <summary>
/// Open mode checks the addresses the server actually bound, not only the configured ones: code
/// can bind Kestrel to every interface without any setting saying so. Real hub, real Kestrel.
/// </summary>
public sealed class BoundAddressTests
{
    [Fact]
    public async Task Open_mode_refuses_to_run_when_the_server_was_bound_to_every_interface_by_code()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = LoopbackPorts.Free();
        await using var app = await BuildAsync(db.ConnectionString, port, allowOpenOnNetwork: false);

        var refusal = await Assert.ThrowsAsync<ExposedOpenModeException>(() => app.StartAsync().WithTimeout(TimeSpan.FromSeconds(60)));
        Assert.Contains($":{port}", refusal.Message);
        Assert.Contains("Auth:AllowOpenOnNetwork=true", refusal.Message);

        // Nothing listens any more: the refusal stopped the server.
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(() => socket.ConnectAsync(IPAddress.Loopback, port).WithTimeout());
    }

    [Fact]
    public async Task The_explicit_override_lets_open_mode_run_on_every_interface()
    {
        await using var db = await TestDatabase.CreateAsync();
        var port = LoopbackPorts.Free();
        await using var app = await BuildAsync(db.ConnectionString, port, allowOpenOnNetwork: true);
        await app.StartAsync().WithTimeout(TimeSpan.FromSeconds(60));
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz").WithTimeout()).StatusCode);
        }
        finally
        {
            await app.StopAsync().WithTimeout(TimeSpan.FromSeconds(60));
        }
    }

    // The configuration says loopback; the code binds every interface (Kestrel then ignores Urls).
    private static Task<WebApplication> BuildAsync(string connectionString, int port, bool allowOpenOnNetwork) =>
        EventHubApp.BuildAsync([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:EventHub"] = connectionString,
                ["Urls"] = "http://127.0.0.1:0",
                ["Auth:AllowOpenOnNetwork"] = allowOpenOnNetwork ? "true" : "false",
            });
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(port));
        });
}
