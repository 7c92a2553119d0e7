using System.Buffers;
using System.Net;
using Dapper;
using EventHub.Log;
using EventHub.Operations;
using EventHub.Sse;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace EventHub.Tests.Operations;

/// <summary>
/// The catch-up warm-up (<see cref="CatchUpWarmUp"/>): once the tail is ready, the hub reads the
/// log's oldest events through the catch-up path itself, so that the first client's catch-up runs
/// optimized code on an open session (bench/results/2026-12-05-stop43-write-path.md has the
/// figures; timing is the bench's, not a test's).
/// </summary>
public sealed class CatchUpWarmUpTests
{
    [Fact]
    public async Task It_reads_the_oldest_events_a_catch_up_batch_at_a_time_and_frames_each()
    {
        var log = new InMemoryChangeLog();
        var appended = Enumerable.Range(0, 250).Select(i => log.Append("p", "session_created", new { id = $"s{i}" })).ToList();
        var reader = new CountingReader(log);

        var (events, bytes) = await CatchUpWarmUp.ReadAsync(reader, new StreamOptions { CatchUpBatchSize = 100 }, wanted: 200, long.MaxValue, CancellationToken.None);

        Assert.Equal(200, events);
        Assert.Equal(appended.Take(200).Sum(FrameLength), bytes);
        Assert.Equal([100, 100], reader.Limits); // the catch-up's batch size, and no more than wanted
        Assert.Equal(LogPosition.Start, reader.From.First());
    }

    [Fact]
    public async Task It_stops_at_the_end_of_a_shorter_log()
    {
        var log = new InMemoryChangeLog();
        var appended = Enumerable.Range(0, 30).Select(i => log.Append("p", "session_created", new { id = $"s{i}" })).ToList();
        var reader = new CountingReader(log);

        var (events, bytes) = await CatchUpWarmUp.ReadAsync(reader, new StreamOptions { CatchUpBatchSize = 100 }, wanted: 1000, long.MaxValue, CancellationToken.None);

        Assert.Equal(30, events);
        Assert.Equal(appended.Sum(FrameLength), bytes);
        Assert.Single(reader.Limits);
    }

    [Fact]
    public async Task It_stops_after_the_page_that_brings_the_payloads_to_their_bound()
    {
        var log = new InMemoryChangeLog();
        var appended = Enumerable.Range(0, 250).Select(i => log.Append("p", "session_created", new { id = $"s{i}" })).ToList();
        var reader = new CountingReader(log);
        var bound = appended.Take(45).Sum(e => (long)e.PayloadSize); // inside the fifth page of ten

        var (events, bytes) = await CatchUpWarmUp.ReadAsync(reader, new StreamOptions { CatchUpBatchSize = 10 }, wanted: 200, bound, CancellationToken.None);

        Assert.Equal(50, events);
        Assert.Equal(appended.Take(50).Sum(FrameLength), bytes);
        Assert.Equal(5, reader.Limits.Count);
    }

    [Fact]
    public async Task A_started_hub_has_read_the_log_through_the_catch_up_pool_before_any_client()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", 300);
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["CatchUpWarmUp:Events"] = "200",
            ["Stream:CatchUpBatchSize"] = "100",
        });
        await hub.Get<CatchUpWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        await using var check = await db.DataSource.OpenConnectionAsync();
        // No client has connected: the catch-up pool's session is the warm-up's, kept open for the
        // first client (LogDataSources), and its last statement was a page read.
        var sessions = await CatchUpSessionsAsync(check);
        Assert.NotEmpty(sessions);
        Assert.Contains(sessions, s => s.Query.Contains("h.head_tick, h.last_tick"));
    }

    [Fact]
    public async Task With_no_events_to_warm_up_a_started_hub_opens_no_catch_up_session()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", 300);
        await using var hub = await HubServer.StartAsync(db.ConnectionString); // the suite's hubs: CatchUpWarmUp:Events = 0
        await hub.Get<CatchUpWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));

        await using var check = await db.DataSource.OpenConnectionAsync();
        Assert.Empty(await CatchUpSessionsAsync(check));
    }

    [Fact]
    public async Task The_hub_reports_ready_only_once_its_catch_up_warm_up_has_ended()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", 50);
        var release = new TaskCompletionSource();
        FirstReadHeld? gate = null;
        var logs = new LogSink();
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["CatchUpWarmUp:Events"] = "200",
        }, services: s =>
        {
            logs.AddTo(s);
            s.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
                gate = new FirstReadHeld(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()), release.Task));
        });
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };
        await gate!.Entered.WaitAsync(TimeSpan.FromSeconds(30)); // the tail is ready and the warm-up reads

        // Before, the hub was ready once its tail was, and the warm-up ran beside the first clients' load.
        var warming = await http.GetAsync("/readyz").WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, warming.StatusCode);
        // A hub that is starting is not failing: the health check service logged an Error with each probe of every start.
        var checks = logs.Entries.Where(e => e.Category == "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService").ToList();
        Assert.DoesNotContain(checks, e => e.Level >= LogLevel.Error);
        Assert.Contains(checks, e => e.Level == LogLevel.Warning && e.Contains("Warming up"));

        release.SetResult();
        await hub.Get<CatchUpWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WaitAsync(TimeSpan.FromSeconds(10))).StatusCode);
    }

    [Fact]
    public async Task A_warm_up_that_does_not_end_gives_up_at_its_timeout_and_the_hub_turns_ready()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Writer.SessionsAsync("bulk", 50);
        FirstReadHeld? gate = null; // never released: a read that does not answer
        await using var hub = await HubServer.StartAsync(db.ConnectionString, new Dictionary<string, string?>
        {
            ["CatchUpWarmUp:Events"] = "200",
            ["CatchUpWarmUp:Timeout"] = "00:00:01",
        }, services: s => s.AddKeyedSingleton<IChangeLogReader>(LogReaders.CatchUp, (sp, _) =>
            gate = new FirstReadHeld(new ChangeLogReader(sp.GetRequiredService<NpgsqlDataSource>()), new TaskCompletionSource().Task)));
        using var http = new HttpClient { BaseAddress = hub.BaseAddress };

        await hub.Get<CatchUpWarmUp>().ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(gate!.Cancelled, "the warm-up's read was not cancelled at its timeout");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz").WaitAsync(TimeSpan.FromSeconds(10))).StatusCode);
    }

    [Fact]
    public void The_readiness_check_names_the_start_up_work_that_has_not_ended()
    {
        var running = new TaskCompletionSource();
        var result = Health.StartupWarmUpHealthCheck.Check(("the start-up collection", Task.CompletedTask),
            ("the catch-up warm-up", running.Task));
        Assert.Equal(Health.HealthEndpoints.NotReadyYet, result.Status); // 503, logged as a Warning

        Assert.Contains("the catch-up warm-up", result.Description);
        Assert.DoesNotContain("collection", result.Description);

        Assert.Equal(Health.HealthEndpoints.NotReadyYet,
            Health.StartupWarmUpHealthCheck.Check(("a service that has not started", null)).Status);

        running.SetResult();
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            Health.StartupWarmUpHealthCheck.Check(("the start-up collection", Task.CompletedTask), ("the catch-up warm-up", running.Task)).Status);
    }

    private static long FrameLength(LogEvent e)
    {
        var frame = new ArrayBufferWriter<byte>();
        return SseEventFrames.Write(frame, e);
    }

    private static async Task<List<(int Pid, string Query)>> CatchUpSessionsAsync(NpgsqlConnection check) =>
        [.. await check.QueryAsync<(int, string)>("""
            SELECT pid, query FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE '% catch-up'
            """)];
}
