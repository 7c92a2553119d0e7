using Npgsql;

namespace EventHub.Log;

/// <summary>
/// Gives the ticker's lease up on a graceful stop (<c>eventhub_ticker</c>, migration 0007), so another
/// node takes over at its next look instead of when the lease expires. Only the owner's row changes.
/// </summary>
public static class LeaseReleaseSql
{
    public const string Text = "UPDATE eventhub_ticker SET expires_at = '-infinity' WHERE owner = $1";

    public static async Task ReleaseAsync(NpgsqlConnection connection, Guid owner, CancellationToken cancellationToken)
    {
        await using var release = new NpgsqlCommand(Text, connection) { Parameters = { new NpgsqlParameter<Guid> { TypedValue = owner } } };
        await release.ExecuteNonQueryAsync(cancellationToken);
    }
}
