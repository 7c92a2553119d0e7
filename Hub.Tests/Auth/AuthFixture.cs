using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Auth;

/// <summary>
/// One database and two hubs on it: one in open mode (the default) and one in token mode with
/// the tests' HS256 key, whose every log entry is recorded. Each test uses projects of its own.
/// </summary>
public sealed class AuthFixture : IAsyncLifetime
{
    private int _projects;

    public TestDatabase Db { get; private set; } = null!;
    public HubServer OpenHub { get; private set; } = null!;
    public HubServer TokenHub { get; private set; } = null!;
    public LogSink TokenHubLogs { get; } = new();

    /// <summary>Connections per principal (issuer and subject) on <see cref="TokenHub"/>; a test that reaches it uses a subject of its own.</summary>
    public const int MaxConnectionsPerPrincipal = 3;

    public string NewProject(string hint = "p") => $"{hint}{Interlocked.Increment(ref _projects)}";

    public HubServer Hub(bool token) => token ? TokenHub : OpenHub;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(nameof(AuthFixture));
        OpenHub = await HubServer.StartAsync(Db.ConnectionString);
        var settings = TestTokens.TokenModeSettings();
        settings["Limits:MaxConnectionsPerPrincipal"] = MaxConnectionsPerPrincipal.ToString();
        TokenHub = await HubServer.StartAsync(Db.ConnectionString, settings, services: TokenHubLogs.AddTo);
    }

    /// <summary>The offset of a project's n-th event (1-based), crafted from the log itself.</summary>
    public async Task<string> OffsetOfAsync(string project, int n)
    {
        await using var c = await Db.DataSource.OpenConnectionAsync();
        var seq = await c.QuerySingleAsync<long>(
            "SELECT seq FROM change_log WHERE project_id = @project ORDER BY seq OFFSET @skip LIMIT 1",
            new { project, skip = n - 1 });
        return await Db.OffsetOfSeqAsync(seq);
    }

    public async Task DisposeAsync()
    {
        await TokenHub.DisposeAsync();
        await OpenHub.DisposeAsync();
        await Db.DisposeAsync();
    }
}
