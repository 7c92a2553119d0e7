using System.Net;
using Dapper;
using EventHub.State;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// Live-state reads run at most Limits:MaxConcurrentStateReads at a time: a burst of them (a fleet
/// of dashboards reloading after a reset) waits its turn in the hub instead of taking the pool.
/// </summary>
public sealed class StateReadBoundTests
{
    [Fact]
    public async Task State_reads_past_the_bound_wait_in_the_hub_not_in_the_database_and_all_are_answered()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?> { ["Limits:MaxConcurrentStateReads"] = "1" });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await TaskTimeouts.UntilAsync(() => http.GetStringAsync("/api/v1/state?project=ao").GetAwaiter().GetResult().Contains("ao-1"));

        // Every read of the state now waits for this lock in the database, as long as it is held.
        await using var locker = await db.DataSource.OpenConnectionAsync();
        await using var lockHolder = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE eventhub_state IN ACCESS EXCLUSIVE MODE", transaction: lockHolder);

        var reads = Enumerable.Range(0, 3).Select(_ => http.GetAsync("/api/v1/state?project=ao")).ToList();
        await using var watcher = await db.DataSource.OpenConnectionAsync();
        var reader = hub.Get<LiveStateReader>();
        // One read waits on the lock in the database; the other two in the hub. Unbounded, three
        // sessions wait on the lock and nothing queues in the hub (this never holds).
        await TaskTimeouts.UntilAsync(() => reader.Queued == 2 && WaitingOnTheLockAsync(watcher).GetAwaiter().GetResult() == 1);

        await lockHolder.RollbackAsync();
        foreach (var response in await Task.WhenAll(reads).WithTimeout())
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains("ao-1", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, reader.Queued);
    }

    [Fact]
    public async Task A_principal_with_many_reads_queued_holds_back_another_principals_read_by_one_turn_not_by_all_of_them()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.ProjectAsync("ao");
        await db.Writer.SessionAsync("ao", 1);
        var settings = TestTokens.TokenModeSettings();
        settings["Limits:MaxConcurrentStateReads"] = "1";
        await using var hub = await HubServer.StartAsync(db.ConnectionString, settings);
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        var alice = TestTokens.Mint(["ao"], subject: "alice");
        var bob = TestTokens.Mint(["ao"], subject: "bob");
        var finished = new System.Collections.Concurrent.ConcurrentQueue<string>();
        async Task<string> StateAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/state?project=ao");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsStringAsync();
        }
        async Task ReadAsync(string token, string name)
        {
            Assert.Contains("ao-1", await StateAsync(token));
            finished.Enqueue(name);
        }
        // The state holds ao-1 once a tick has it and the upkeep folded that tick: until then a read
        // answers without it (this read once came first on a loaded machine).
        await TaskTimeouts.UntilAsync(async () => (await StateAsync(alice)).Contains("ao-1"), because: "the state never held ao-1");

        // Every read now waits for this lock in the database; with one slot, one read waits there
        // and the rest in the hub's queue.
        await using var locker = await db.DataSource.OpenConnectionAsync();
        await using var lockHolder = await locker.BeginTransactionAsync();
        await locker.ExecuteAsync("LOCK TABLE eventhub_state IN ACCESS EXCLUSIVE MODE", transaction: lockHolder);
        var reader = hub.Get<LiveStateReader>();
        var reads = Enumerable.Range(1, 6).Select(i => ReadAsync(alice, $"alice-{i}")).ToList();
        await TaskTimeouts.UntilAsync(() => reader.Queued == 5, because: "alice's reads did not queue");
        reads.Add(ReadAsync(bob, "bob"));
        await TaskTimeouts.UntilAsync(() => reader.Queued == 6, because: "bob's read did not queue");

        await lockHolder.RollbackAsync();
        await Task.WhenAll(reads).WithTimeout();
        // The turns after alice's first read: alice, bob, then alice's other four. In arrival order
        // bob's read would have come last, after all six of alice's.
        var order = finished.ToList();
        Assert.True(order.IndexOf("bob") <= 3, $"bob's read finished in place {order.IndexOf("bob") + 1} of 7: {string.Join(", ", order)}");
    }

    private static Task<long> WaitingOnTheLockAsync(Npgsql.NpgsqlConnection c) => c.ExecuteScalarAsync<long>("""
        SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%eventhub_state%' AND pid <> pg_backend_pid()
        """);
}
