using Dapper;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>Writes the orchestrator's source tables; the triggers turn the writes into change_log rows.</summary>
public sealed class SourceWriter(NpgsqlDataSource dataSource)
{
    public async Task ExecuteAsync(string sql, object? args = null)
    {
        await using var c = await dataSource.OpenConnectionAsync();
        await c.ExecuteAsync(sql, args);
    }

    public Task ProjectAsync(string id) =>
        ExecuteAsync("INSERT INTO projects (id, path) VALUES (@id, '/src/' || @id) ON CONFLICT DO NOTHING", new { id });

    /// <summary>
    /// Creates the project if needed and sessions <c>{project}-1</c> to <c>{project}-{count}</c> in one
    /// statement: <paramref name="count"/> session_created events of one transaction.
    /// </summary>
    public async Task SessionsAsync(string project, int count)
    {
        await ProjectAsync(project);
        await ExecuteAsync("""
            INSERT INTO sessions (id, project_id, num)
            SELECT @project || '-' || n, @project, n FROM generate_series(1, @count) AS n
            """, new { project, count });
    }

    /// <summary>Creates the project if needed and a session <c>{project}-{num}</c>: one session_created event.</summary>
    public async Task<string> SessionAsync(string project, int num, string activity = "active")
    {
        await ProjectAsync(project);
        var id = $"{project}-{num}";
        await ExecuteAsync("INSERT INTO sessions (id, project_id, num, activity_state) VALUES (@id, @project, @num, @activity)",
            new { id, project, num, activity });
        return id;
    }

    public Task SessionActivityAsync(string session, string activity, bool terminated = false) =>
        ExecuteAsync("UPDATE sessions SET activity_state = @activity, is_terminated = @terminated WHERE id = @session",
            new { session, activity, terminated });

    /// <summary>One pr_created event.</summary>
    public async Task<string> PrAsync(string session, int number)
    {
        var url = $"https://github.com/acme/{session}/pull/{number}";
        await ExecuteAsync("INSERT INTO pr (url, session_id, number, pr_state, ci_state) VALUES (@url, @session, @number, 'open', 'pending')",
            new { url, session, number });
        return url;
    }

    public Task PrStateAsync(string url, string ci, string review, string mergeability, string state = "open") =>
        ExecuteAsync("UPDATE pr SET ci_state = @ci, review_decision = @review, mergeability = @mergeability, pr_state = @state WHERE url = @url",
            new { url, ci, review, mergeability, state });

    public Task PrSessionAsync(string url, string session) =>
        ExecuteAsync("UPDATE pr SET session_id = @session WHERE url = @url", new { url, session });

    public Task CheckAsync(string pr, string name, string commit, string status) =>
        ExecuteAsync("""
            INSERT INTO pr_checks (pr_url, name, commit_hash, status) VALUES (@pr, @name, @commit, @status)
            ON CONFLICT (pr_url, name, commit_hash) DO UPDATE SET status = excluded.status
            """, new { pr, name, commit, status });

    public Task ThreadAsync(string pr, string thread, string path, int line, bool isBot = false) =>
        ExecuteAsync("INSERT INTO pr_review_threads (pr_url, thread_id, path, line, is_bot) VALUES (@pr, @thread, @path, @line, @isBot)",
            new { pr, thread, path, line, isBot });

    public Task ResolveThreadAsync(string pr, string thread, bool resolved = true) =>
        ExecuteAsync("UPDATE pr_review_threads SET resolved = @resolved WHERE pr_url = @pr AND thread_id = @thread",
            new { pr, thread, resolved });
}
