using Npgsql;

namespace EventHub.Bench;

/// <summary>
/// Two transactions that hold an xid until disposed: one in the hub's database and one in another
/// database of the same cluster (<c>other_db</c>), as a migration, a batch job or an ORM session
/// left idle in transaction would. Disposing commits both.
/// </summary>
public sealed class HeldXids : IAsyncDisposable
{
    private readonly NpgsqlConnection _here;
    private readonly NpgsqlConnection _there;
    private readonly NpgsqlTransaction _txHere;
    private readonly NpgsqlTransaction _txThere;

    private HeldXids(NpgsqlConnection here, NpgsqlConnection there, NpgsqlTransaction txHere, NpgsqlTransaction txThere, string xids)
    {
        _here = here;
        _there = there;
        _txHere = txHere;
        _txThere = txThere;
        Xids = xids;
    }

    /// <summary>The two xids, for the report: "here N, other database M".</summary>
    public string Xids { get; }

    public static async Task<HeldXids> BeginAsync(NpgsqlDataSource hubDatabase, string clusterConnectionString)
    {
        var here = await hubDatabase.OpenConnectionAsync();
        var there = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(clusterConnectionString) { Database = "other_db" }.ConnectionString);
        await there.OpenAsync();
        var txHere = await here.BeginTransactionAsync();
        var txThere = await there.BeginTransactionAsync();
        return new HeldXids(here, there, txHere, txThere,
            $"here {await XidAsync(here, txHere)}, other database {await XidAsync(there, txThere)}");
    }

    private static async Task<string> XidAsync(NpgsqlConnection c, NpgsqlTransaction tx)
    {
        await using var q = new NpgsqlCommand("SELECT pg_current_xact_id()::text", c, tx);
        return (string)(await q.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        await _txHere.CommitAsync();
        await _txThere.CommitAsync();
        await _here.DisposeAsync();
        await _there.DisposeAsync();
    }
}
