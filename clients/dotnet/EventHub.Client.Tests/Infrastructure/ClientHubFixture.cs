using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// One database and one hub per test class; each test streams projects of its own
/// (<see cref="NewProject"/>). The hub carries a <see cref="ConnectionKiller"/>.
/// </summary>
public sealed class ClientHubFixture : IAsyncLifetime
{
    private int _projects;

    public TestDatabase Db { get; private set; } = null!;
    public HubServer Hub { get; private set; } = null!;
    public ConnectionKiller Killer { get; } = new();

    public string NewProject(string hint = "p") => $"{hint}{Interlocked.Increment(ref _projects)}";

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(nameof(ClientHubFixture));
        Hub = await StartHubAsync(Db.ConnectionString, Killer);
    }

    public static Task<HubServer> StartHubAsync(string connectionString, ConnectionKiller? killer = null, int port = 0) =>
        HubServer.StartAsync(connectionString, port: port, services: killer is null ? null : s =>
            s.Configure<HubOptions>(o => o.AddFilter(killer)));

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        await Db.DisposeAsync();
    }
}
