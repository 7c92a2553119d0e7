using Npgsql;

namespace EventHub.Log;

/// <summary>
/// The leader's looks inside the database (<c>eventhub_wait_for_commit</c>, migration 0012, opt-in
/// by <see cref="TickerOptions.WaitInDatabase"/>): repeats the tick function's "nothing new" test
/// every step until a commit is due or the wait is over. Sent ahead of <see cref="TickRowsSql"/> in
/// one batch, so a round stays one round trip.
/// </summary>
public static class WaitForCommitSql
{
    public const string Text = "SELECT eventhub_wait_for_commit($1, $2)";

    /// <summary>The parameters are the caller's, so each round can set them before the prepared batch runs.</summary>
    public static NpgsqlBatchCommand Command(NpgsqlParameter<TimeSpan> waitFor, NpgsqlParameter<TimeSpan> step) =>
        new(Text) { Parameters = { waitFor, step } };
}
