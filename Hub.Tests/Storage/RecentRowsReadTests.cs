using EventHub.Log;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Storage;

/// <summary>
/// The read that fills the recent-events window at start-up (<see cref="IChangeLogReader.ReadLastAsync"/>)
/// against PostgreSQL: it stops at its count or at its payload bound, whichever comes first, and
/// the coverage it reports starts at the row it stopped at.
/// </summary>
public sealed class RecentRowsReadTests
{
    [Fact]
    public async Task The_read_stops_at_its_count_or_at_the_row_that_passes_its_payload_bound()
    {
        await using var db = await TestDatabase.CreateAsync();
        for (var i = 1; i <= 30; i++) await db.Writer.SessionAsync("ao", i);
        await using var hubSessions = EventHub.Storage.HubDataSources.Create(db.ConnectionString, "recent-rows-test");
        var reader = new ChangeLogReader(hubSessions);
        var head = await reader.TickNowAsync();

        var all = await reader.ReadLastAsync(head, 1000, long.MaxValue);
        Assert.Equal(30, all.Events.Count);
        Assert.Equal(LogPosition.Start, all.CoveredFrom);
        var events = all.Events.ToArray();

        var byCount = await reader.ReadLastAsync(head, 11, long.MaxValue);
        AssertRead(byCount, events[20..], coveredFrom: events[19].Position);

        var lastTen = events.Skip(20).Sum(e => (long)e.PayloadSize);
        AssertRead(await reader.ReadLastAsync(head, 1000, lastTen), events[20..], coveredFrom: events[19].Position);
        AssertRead(await reader.ReadLastAsync(head, 1000, lastTen - 1), events[21..], coveredFrom: events[20].Position);
        // The bound the count reaches first: the count decides.
        AssertRead(await reader.ReadLastAsync(head, 6, lastTen), events[25..], coveredFrom: events[24].Position);
    }

    private static void AssertRead(RecentRows read, IReadOnlyList<LogEvent> expected, LogPosition coveredFrom)
    {
        Assert.Equal(expected.Select(e => e.Offset), read.Events.Select(e => e.Offset));
        Assert.Equal(coveredFrom, read.CoveredFrom);
    }
}
