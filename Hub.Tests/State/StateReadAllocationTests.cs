using Dapper;
using EventHub.Log;
using EventHub.State;
using EventHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EventHub.Tests.State;

/// <summary>
/// What a state read allocates per entity, its rows read and each entity's event JSON built as the
/// endpoint writes it. It was 4,030 bytes for a 314-byte payload (in the bench, 32 MB a read of
/// 10,000 entities: several collections a second of reads, gen-2 ones among them, each pausing
/// every stream): Dapper's row parser decoded each payload into a string (encoded again later) and
/// boxed the numbers, and each event's JSON was built in a buffer and a writer of its own. Now 1,550.
/// </summary>
[Collection(AloneCollection.Name)] // counts the process's allocations: nothing else may run meanwhile
public sealed class StateReadAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_state_read_allocates_about_five_times_its_payload_per_entity_not_ten()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var c = await db.DataSource.OpenConnectionAsync();
        const int Entities = 2_000;
        await c.ExecuteAsync("""
            INSERT INTO change_log (project_id, session_id, event_type, payload)
            SELECT 'p', 'p-' || i, 'session_created',
                   jsonb_build_object('id', 'p-' || i, 'activity', 'active', 'isTerminated', false, 'branch', repeat('b', 240))
            FROM generate_series(1, @Entities) i
            """, new { Entities });
        Assert.True(await c.QuerySingleAsync<bool>("SELECT made FROM eventhub_make_tick()"));
        await c.ExecuteAsync("SELECT eventhub_fold_pending(2147483647)");
        var payloadBytes = await c.QuerySingleAsync<long>("SELECT sum(octet_length(payload)) FROM eventhub_state WHERE project_id = 'p'");

        var reader = new LiveStateReader(db.DataSource, new ChangeLogReader(db.DataSource));
        var filter = new EventFilter(["p"], null);
        async Task<int> ReadAsync()
        {
            var jsonBytes = 0;
            await foreach (var item in reader.StreamAsync(filter, CancellationToken.None))
                if (item.Event is { } e) jsonBytes += e.Json.Length; // as StateJsonWriter writes each entity
            return jsonBytes;
        }

        Assert.True(await ReadAsync() > payloadBytes); // warm: the statement prepared, the code compiled
        // The count is the whole process's (the reads run on the thread pool): the least of a few
        // rounds is the read's own.
        var perEntity = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await ReadAsync();
            perEntity.Add((GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Entities);
        }
        var payload = payloadBytes / (double)Entities;
        output.WriteLine($"bytes allocated per entity: {string.Join(", ", perEntity.Select(b => b.ToString("F0")))}, payload {payload:F0} bytes");
        // 1,500-1,550 bytes now (the row's strings, the payload's bytes, the event and its JSON), 4,030 before.
        Assert.True(perEntity.Min() < 2_300,
            $"bytes allocated per entity: {string.Join(", ", perEntity.Select(b => b.ToString("F0")))}, payload {payload:F0} bytes");
    }
}
