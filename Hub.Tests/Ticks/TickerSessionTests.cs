using Dapper;
using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Tests.Ticks;

/// <summary>
/// The ticker's session set-up (<see cref="TickerSessionSql"/>): its ticks commit durably whatever
/// the database's default, and it refuses to tick on a standby.
/// </summary>
public sealed class TickerSessionTests
{
    [Fact]
    public async Task The_tickers_session_commits_synchronously_where_the_database_defaults_to_asynchronous_commits()
    {
        // A tick lost in a crash after hubs had served it would be made again with another snapshot.
        await using var db = await TestDatabase.CreateAsync();
        await using (var admin = await db.DataSource.OpenConnectionAsync())
            await admin.ExecuteAsync($"ALTER DATABASE {admin.Database} SET synchronous_commit = off");
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync();
        Assert.Equal("off", await connection.ExecuteScalarAsync<string>("SHOW synchronous_commit"));

        TickerSessionSql.Prepare(connection);

        Assert.Equal("on", await connection.ExecuteScalarAsync<string>("SHOW synchronous_commit"));
    }

    [Fact]
    public async Task The_ticker_refuses_a_standby()
    {
        await using var cluster = await StreamingStandby.StartAsync();
        await using var standby = new NpgsqlConnection(cluster.StandbyConnectionString);
        await standby.OpenAsync();

        var refused = Assert.Throws<InvalidOperationException>(() => TickerSessionSql.Prepare(standby));
        Assert.Contains("standby", refused.Message, StringComparison.Ordinal);

        await using var primary = new NpgsqlConnection(cluster.Primary.ConnectionString);
        await primary.OpenAsync();
        TickerSessionSql.Prepare(primary); // the primary is accepted
    }
}
