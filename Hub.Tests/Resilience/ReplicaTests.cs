using EventHub.Log;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace EventHub.Tests.Resilience;

/// <summary>
/// Reads from a hot standby that lags. The ordering technique must stay correct: a catch-up on
/// the standby may not end before it has seen the head the primary's tail already published.
/// </summary>
public sealed class ReplicaTests
{
    /// <summary>
    /// Catch-ups read the replica: a node whose replica does not answer ended every stream from an
    /// offset with unavailable and still answered /readyz with 200, so a balancer kept sending it
    /// the clients that reconnect. It is not ready while the replica is down, and ready again after.
    /// </summary>
    [Fact]
    public async Task A_node_whose_replica_does_not_answer_is_not_ready_and_is_ready_again_once_it_does()
    {
        await using var cluster = await StreamingStandby.StartAsync();
        await using var hub = await HubServer.StartAsync(cluster.Primary.ConnectionString, new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventHubReplica"] = cluster.StandbyConnectionString,
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        async Task<bool> ReadyIs(System.Net.HttpStatusCode status) => (await http.GetAsync("/readyz")).StatusCode == status;

        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.OK), because: "the node never became ready");
        await cluster.StopStandbyAsync();
        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.ServiceUnavailable), because: "the node stayed ready without its replica");
        await cluster.StartStandbyAsync();
        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.OK), because: "the node did not become ready again");
    }

    /// <summary>
    /// A node whose tail reads the replica reads it successfully while the primary is down, so the
    /// tail's check stayed green until Health:MaxTailLag (the ticker's rounds failing as long), while
    /// the head offset and every stream from now already answered unavailable (they ask the
    /// primary). With the lag bound far out of reach, only a probe of the primary can turn it.
    /// </summary>
    [Fact]
    public async Task A_node_whose_tail_reads_the_replica_is_not_ready_while_the_primary_does_not_answer()
    {
        await using var cluster = await StreamingStandby.StartAsync();
        await using var hub = await HubServer.StartAsync(cluster.Primary.ConnectionString, new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventHubReplica"] = cluster.StandbyConnectionString,
            ["Stream:TailReadsFromReplica"] = "true",
            ["Health:MaxTailLag"] = "00:01:00",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        async Task<bool> ReadyIs(System.Net.HttpStatusCode status) => (await http.GetAsync("/readyz")).StatusCode == status;

        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.OK), because: "the node never became ready");
        await cluster.Primary.StopAsync();
        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.ServiceUnavailable), TimeSpan.FromSeconds(10),
            because: "the node stayed ready without its primary");
        await cluster.Primary.StartAsync();
        await TaskTimeouts.UntilAsync(() => ReadyIs(System.Net.HttpStatusCode.OK), because: "the node did not become ready again");
    }

    /// <summary>
    /// Rows wait unpublished on a node whose tail reads a replica that does not replay: the reason
    /// given asked whether any node ticked (Ticker:Enabled), while another node ticked fine.
    /// </summary>
    [Fact]
    public async Task A_node_whose_tail_reads_a_replica_that_does_not_replay_names_the_replay_as_why_it_is_not_ready()
    {
        await using var cluster = await StreamingStandby.StartAsync();
        // The ticking node hands its ticks to its own tail, wherever that reads: the lagging one is another.
        await using var ticking = await HubServer.StartAsync(cluster.Primary.ConnectionString);
        await using var hub = await HubServer.StartAsync(cluster.Primary.ConnectionString, new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventHubReplica"] = cluster.StandbyConnectionString,
            ["Stream:TailReadsFromReplica"] = "true",
            ["Ticker:Enabled"] = "false",
            ["Health:MaxTailLag"] = "00:00:01",
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await TaskTimeouts.UntilAsync(async () => (await http.GetAsync("/readyz")).StatusCode == System.Net.HttpStatusCode.OK,
            because: "the node never became ready");
        await using var dataSource = NpgsqlDataSource.Create(cluster.Primary.ConnectionString);

        await cluster.ExecuteOnStandbyAsync("SELECT pg_wal_replay_pause()");
        await new SourceWriter(dataSource).SessionAsync("ao", 1);
        var checks = hub.Services.GetRequiredService<HealthCheckService>();
        string? why = null;
        await TaskTimeouts.UntilAsync(async () =>
        {
            why = (await checks.CheckHealthAsync(c => c.Name == "delivery")).Entries["delivery"].Description;
            return why is not null;
        }, because: "the node stayed ready while the rows waited for the replica's replay");
        Assert.Contains("replay", why);
        Assert.DoesNotContain("Ticker:Enabled", why);
        await cluster.ExecuteOnStandbyAsync("SELECT pg_wal_replay_resume()");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Catch_up_from_a_lagging_standby_waits_for_it_and_loses_or_repeats_nothing(bool tailReadsFromReplica)
    {
        await using var cluster = await StreamingStandby.StartAsync();
        var catchUpReads = new ObservedReader();
        await using var hub = await HubServer.StartAsync(cluster.Primary.ConnectionString, new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventHubReplica"] = cluster.StandbyConnectionString,
            ["Stream:TailReadsFromReplica"] = tailReadsFromReplica.ToString(),
            ["Stream:RecentEventsWindowSize"] = "1", // catch-ups must really read the standby
            ["Stream:PollInterval"] = "00:00:00.200",
        }, services: s => s.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
            catchUpReads.Wrap(sp.GetRequiredKeyedService<IChangeLogReader>(LogReaders.Replica))));
        await using var dataSource = NpgsqlDataSource.Create(cluster.Primary.ConnectionString);
        var writer = new SourceWriter(dataSource);
        for (var i = 1; i <= 5; i++) await writer.SessionAsync("ao", i);
        await cluster.WaitForReplayAsync();

        await using var live = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao&after=0");
        var first = await live.ReadEventsAsync(5);

        // The standby stops replaying; the primary goes on.
        await cluster.ExecuteOnStandbyAsync("SELECT pg_wal_replay_pause()");
        catchUpReads.Paused = true;
        for (var i = 6; i <= 10; i++) await writer.SessionAsync("ao", i);
        if (!tailReadsFromReplica)
            Assert.Equal(["ao-6", "ao-7", "ao-8", "ao-9", "ao-10"], (await live.ReadEventsAsync(5)).Select(Id)); // the tail reads the primary

        // A client resumes from ao-5 while the standby lacks ao-6..ao-10.
        await using var resumed = await SseTestClient.ConnectAsync(hub.BaseAddress, "project=ao", lastEventId: first[^1].Id);
        var pending = resumed.ReadEventsAsync(5, TimeSpan.FromSeconds(30));
        // Only once the catch-up has read the standby and found nothing after ao-5 does replay go on:
        // a catch-up that ended there would never deliver ao-6..ao-10, which the primary's tail
        // published before this client joined. (When the tail reads the standby too, it has not
        // published them yet, so they come live and the window serves the catch-up.)
        if (!tailReadsFromReplica) await catchUpReads.EmptyReadAfterPause.Task.WithTimeout();
        await cluster.ExecuteOnStandbyAsync("SELECT pg_wal_replay_resume()");
        Assert.Equal(["ao-6", "ao-7", "ao-8", "ao-9", "ao-10"], (await pending).Select(Id));
        if (tailReadsFromReplica)
            Assert.Equal(["ao-6", "ao-7", "ao-8", "ao-9", "ao-10"], (await live.ReadEventsAsync(5)).Select(Id));

        await writer.SessionAsync("ao", 11);
        Assert.Equal("ao-11", Id(await resumed.ReadEventAsync()));
        Assert.Equal("ao-11", Id(await live.ReadEventAsync()));
    }

    private static string Id(SseFrame f) => f.Payload.GetProperty("id").GetString()!;

    /// <summary>Wraps the catch-up reader to tell the test when a catch-up read came back empty.</summary>
    private sealed class ObservedReader
    {
        public volatile bool Paused;
        public TaskCompletionSource EmptyReadAfterPause { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public IChangeLogReader Wrap(IChangeLogReader inner) => new Reader(inner, this);

        private sealed class Reader(IChangeLogReader inner, ObservedReader observer) : DelegatingChangeLogReader(inner)
        {
            public override async Task<LogBatch> ReadAsync(LogPosition after, EventFilter filter, PageLimit limit, CancellationToken cancellationToken = default)
            {
                var batch = await Inner.ReadAsync(after, filter, limit, cancellationToken);
                if (observer.Paused && batch.Events.Count == 0) observer.EmptyReadAfterPause.TrySetResult();
                return batch;
            }
        }
    }
}
