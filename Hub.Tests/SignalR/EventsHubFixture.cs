using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.SignalR;

/// <summary>
/// One database and one hub for the SignalR tests of a class (they run one after another). Each
/// test streams projects of its own (<see cref="NewProject"/>), so tests never see each other's events.
/// </summary>
public sealed class EventsHubFixture : IAsyncLifetime
{
    private int _projects;

    public TestDatabase Db { get; private set; } = null!;
    public HubServer Hub { get; private set; } = null!;

    public string NewProject(string hint = "p") => $"{hint}{Interlocked.Increment(ref _projects)}";

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(nameof(EventsHubFixture));
        Hub = await HubServer.StartAsync(Db.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await Hub.DisposeAsync();
        await Db.DisposeAsync();
    }
}
