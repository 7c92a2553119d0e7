using Dapper;
using EventHub.Contracts;
using EventHub.Tests.Infrastructure;

namespace EventHub.Client.Tests.Infrastructure;

public static class LogAssert
{
    /// <summary>The events are exactly the project's log, in its order: none missing, none twice.</summary>
    public static async Task ReceivedExactlyTheLogAsync(TestDatabase db, string project, IReadOnlyList<ChangeEvent> received)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        var logged = (await c.QueryAsync<long>(
            "SELECT seq FROM change_log WHERE project_id = @project ORDER BY eventhub_tick_of(tx_id), tx_id, seq", new { project })).ToList();
        Assert.Equal(logged, received.Select(e => e.Seq));
        Assert.Equal(received.Count, received.Select(e => e.Offset).Distinct().Count());
    }
}
