using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EventHub.Demo;

/// <summary>
/// Writes realistic orchestrator activity into the source tables so that a new user sees events
/// flow at once: sessions change activity, PRs go through CI and review, checks are recorded,
/// review threads open and resolve, a PR now and then moves to another session. It writes only
/// through the source tables; the triggers make the events, as in production.
/// </summary>
public sealed partial class DemoActivitySimulator(
    NpgsqlDataSource dataSource,
    IOptions<DemoOptions> options,
    TimeProvider timeProvider,
    ILogger<DemoActivitySimulator> logger) : BackgroundService
{
    private static readonly string[] Activities = ["active", "idle", "waiting_input", "blocked"];
    private static readonly string[] Checks = ["build", "unit-tests", "lint", "e2e"];
    private static readonly string[] Paths = ["src/api/handlers.go", "src/web/App.tsx", "README.md", "deploy/values.yaml", "internal/cdc/tail.go"];
    private readonly Random _random = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled) return;
        LogStarted(string.Join(", ", settings.Projects));
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(stoppingToken);
                foreach (var project in settings.Projects)
                    await connection.ExecuteAsync(
                        "INSERT INTO projects (id, path, display_name) VALUES (@project, '/src/' || @project, @project) ON CONFLICT DO NOTHING",
                        new { project });
                while (!stoppingToken.IsCancellationRequested)
                {
                    var project = settings.Projects[_random.Next(settings.Projects.Length)];
                    await StepAsync(connection, project);
                    var pause = settings.Interval * (0.3 + _random.NextDouble() * 1.4);
                    await Task.Delay(pause, timeProvider, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                LogFailed(e);
                try { await Task.Delay(TimeSpan.FromSeconds(2), timeProvider, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    private async Task StepAsync(NpgsqlConnection c, string project)
    {
        var sessions = (await c.QueryAsync<string>(
            "SELECT id FROM sessions WHERE project_id = @project AND NOT is_terminated ORDER BY num", new { project })).AsList();
        if (sessions.Count < 2 || (sessions.Count < 5 && _random.Next(8) == 0))
        {
            await c.ExecuteAsync("""
                INSERT INTO sessions (id, project_id, num, kind, activity_state, branch)
                SELECT @project || '-' || n, @project, n, 'worker', 'active', 'feat/task-' || n
                FROM (SELECT coalesce(max(num), 0) + 1 AS n FROM sessions WHERE project_id = @project) s
                """, new { project });
            return;
        }
        var session = sessions[_random.Next(sessions.Count)];
        var prs = (await c.QueryAsync<(string url, string state, string ci, string review)>(
            "SELECT url, pr_state, ci_state, review_decision FROM pr WHERE session_id = ANY(@sessions) AND pr_state IN ('draft','open')",
            new { sessions })).AsList();

        switch (_random.Next(10))
        {
            case 0 or 1:
                await c.ExecuteAsync("UPDATE sessions SET activity_state = @a, updated_at = now() WHERE id = @session",
                    new { a = Activities[_random.Next(Activities.Length)], session });
                break;
            case 2 when prs.Count < 4:
                await c.ExecuteAsync("""
                    INSERT INTO pr (url, session_id, number, pr_state, ci_state)
                    SELECT 'https://github.com/acme/' || @project || '/pull/' || n, @session, n, 'open', 'pending'
                    FROM (SELECT coalesce(max(number), 100) + 1 AS n FROM pr p JOIN sessions s ON s.id = p.session_id WHERE s.project_id = @project) x
                    """, new { project, session });
                break;
            case 3 or 4 when prs.Count > 0:
            {
                var pr = prs[_random.Next(prs.Count)];
                var name = Checks[_random.Next(Checks.Length)];
                var status = _random.Next(4) switch { 0 => "queued", 1 => "in_progress", 2 => "failed", _ => "passed" };
                await c.ExecuteAsync("""
                    INSERT INTO pr_checks (pr_url, name, commit_hash, status, url)
                    VALUES (@url, @name, substr(md5(@url), 1, 7), @status, @url || '/checks')
                    ON CONFLICT (pr_url, name, commit_hash) DO UPDATE SET status = excluded.status
                    """, new { pr.url, name, status });
                break;
            }
            case 5 when prs.Count > 0:
            {
                var pr = prs[_random.Next(prs.Count)];
                var ci = pr.ci == "pending" ? (_random.Next(3) == 0 ? "failing" : "passing") : "pending";
                var review = _random.Next(3) switch { 0 => "approved", 1 => "changes_requested", _ => pr.review };
                var mergeability = ci == "passing" ? "mergeable" : _random.Next(4) == 0 ? "conflicting" : "unknown";
                await c.ExecuteAsync("UPDATE pr SET ci_state = @ci, review_decision = @review, mergeability = @mergeability, updated_at = now() WHERE url = @url",
                    new { ci, review, mergeability, pr.url });
                break;
            }
            case 6 when prs.Count > 0:
            {
                var pr = prs[_random.Next(prs.Count)];
                await c.ExecuteAsync("""
                    INSERT INTO pr_review_threads (pr_url, thread_id, path, line, is_bot)
                    VALUES (@url, 'T' || substr(md5(random()::text), 1, 8), @path, @line, @bot)
                    """, new { pr.url, path = Paths[_random.Next(Paths.Length)], line = _random.Next(1, 400), bot = _random.Next(3) == 0 });
                break;
            }
            case 7 when prs.Count > 0:
                await c.ExecuteAsync("""
                    UPDATE pr_review_threads SET resolved = true, updated_at = now()
                    WHERE (pr_url, thread_id) IN (SELECT pr_url, thread_id FROM pr_review_threads
                                                  WHERE NOT resolved AND pr_url = ANY(@urls) LIMIT 1)
                    """, new { urls = prs.Select(p => p.url).ToArray() });
                break;
            case 8 when prs.Count > 0:
            {
                var pr = prs[_random.Next(prs.Count)];
                if (pr.ci == "passing" && pr.review == "approved")
                    await c.ExecuteAsync("UPDATE pr SET pr_state = 'merged', updated_at = now() WHERE url = @url", new { pr.url });
                else if (sessions.Count > 1 && _random.Next(3) == 0)
                    await c.ExecuteAsync("UPDATE pr SET session_id = @to WHERE url = @url",
                        new { to = sessions.First(s => s != session), pr.url });
                break;
            }
            case 9 when sessions.Count > 3:
                await c.ExecuteAsync("UPDATE sessions SET activity_state = 'exited', is_terminated = true WHERE id = @session", new { session });
                break;
            default:
                await c.ExecuteAsync("UPDATE sessions SET activity_state = @a WHERE id = @session",
                    new { a = Activities[_random.Next(Activities.Length)], session });
                break;
        }
    }

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Demo activity is running in projects {Projects}")]
    private partial void LogStarted(string projects);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Demo activity step failed; retrying")]
    private partial void LogFailed(Exception exception);
}
