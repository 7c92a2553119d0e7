using Dapper;
using EventHub.Tests.Infrastructure;
using Npgsql;

namespace EventHub.Client.Tests.Infrastructure;

/// <summary>
/// Several writers changing every kind of entity of one project at random (sessions, PRs, their
/// sessions, checks, review threads) until stopped; each now and then holds a transaction of
/// several changes open across the others' commits, so commits land out of seq order. Each writer
/// owns its entities (no two transactions lock the same rows in different orders), and one in
/// five changes goes to a second project, which a stream of the first must not see.
/// </summary>
public sealed class RandomWriters : IAsyncDisposable
{
    private static readonly string[] Activities = ["active", "idle", "waiting_input", "blocked", "exited"];
    private static readonly string[] PrStates = ["draft", "open", "merged", "closed"];
    private static readonly string[] Reviews = ["none", "approved", "changes_requested", "review_required"];
    private static readonly string[] Cis = ["unknown", "pending", "passing", "failing"];
    private static readonly string[] Merges = ["unknown", "mergeable", "conflicting", "blocked", "unstable"];
    private static readonly string[] CheckStatuses = ["unknown", "queued", "in_progress", "passed", "failed", "skipped", "cancelled"];

    private readonly NpgsqlDataSource _dataSource;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _progress = new(0);
    private readonly Task[] _writers;
    private int _transactions;

    public RandomWriters(TestDatabase db, string project, string otherProject, int writers = 4)
    {
        _dataSource = db.DataSource;
        _writers = [.. Enumerable.Range(0, writers).Select(w => Task.Run(() => WriteAsync(w, project, otherProject)))];
    }

    /// <summary>Transactions committed so far.</summary>
    public int Committed => Volatile.Read(ref _transactions);

    /// <summary>Waits until <paramref name="count"/> more transactions are committed.</summary>
    public async Task WaitForMoreAsync(int count)
    {
        var target = Committed + count;
        while (Committed < target) await _progress.WaitAsync().WithTimeout();
    }

    /// <summary>Stops the writers and rethrows a writer's failure.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writers).WithTimeout();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_writers).WithTimeout(); } catch (Exception e) when (e is not TimeoutException) { }
        _stop.Dispose();
    }

    private async Task WriteAsync(int writer, string project, string otherProject)
    {
        var random = new Random(1000 + writer);
        var own = new Entities(writer);
        var other = new Entities(writer);
        while (!_stop.IsCancellationRequested)
        {
            var (p, entities) = random.Next(5) == 0 ? (otherProject, other) : (project, own);
            await using var c = await _dataSource.OpenConnectionAsync();
            if (random.Next(3) == 0)
            {
                // Several changes in one transaction, held open while the others commit.
                await using var tx = await c.BeginTransactionAsync();
                for (var i = random.Next(2, 5); i > 0; i--) await ChangeAsync(c, tx, random, p, entities);
                await Task.Delay(random.Next(1, 25));
                await tx.CommitAsync();
            }
            else
            {
                await ChangeAsync(c, null, random, p, entities);
            }
            Interlocked.Increment(ref _transactions);
            _progress.Release();
        }
    }

    private static async Task ChangeAsync(NpgsqlConnection c, NpgsqlTransaction? tx, Random random, string project, Entities e)
    {
        string Pick(string[] values) => values[random.Next(values.Length)];
        var choice = e.Sessions.Count == 0 ? 0 : random.Next(10);
        if (choice >= 2 && e.Prs.Count == 0) choice = 1;
        switch (choice)
        {
            case 0: // a new session
                var num = e.NextNumber();
                var id = $"{project}-{num}";
                await c.ExecuteAsync("INSERT INTO projects (id, path) VALUES (@project, '/src') ON CONFLICT DO NOTHING", new { project }, tx);
                await c.ExecuteAsync("INSERT INTO sessions (id, project_id, num, activity_state) VALUES (@id, @project, @num, 'active')",
                    new { id, project, num }, tx);
                e.Sessions.Add(id);
                break;
            case 1: // a new PR
                var session = e.Sessions[random.Next(e.Sessions.Count)];
                var number = e.NextNumber();
                var url = $"https://github.com/acme/{project}/pull/{number}";
                await c.ExecuteAsync("INSERT INTO pr (url, session_id, number, pr_state, ci_state) VALUES (@url, @session, @number, 'open', 'pending')",
                    new { url, session, number }, tx);
                e.Prs.Add(url);
                break;
            case 2: // a session's activity, termination or preview
                await c.ExecuteAsync("""
                    UPDATE sessions SET activity_state = @activity, is_terminated = @terminated,
                        preview_url = CASE WHEN @preview THEN 'https://preview/' || id || '/' || (preview_revision + 1) ELSE preview_url END,
                        preview_revision = preview_revision + CASE WHEN @preview THEN 1 ELSE 0 END
                    WHERE id = @id
                    """, new
                {
                    id = e.Sessions[random.Next(e.Sessions.Count)], activity = Pick(Activities),
                    terminated = random.Next(8) == 0, preview = random.Next(3) == 0,
                }, tx);
                break;
            case 3: // a PR's state
                await c.ExecuteAsync("UPDATE pr SET pr_state = @state, review_decision = @review, ci_state = @ci, mergeability = @merge WHERE url = @url",
                    new { url = e.Prs[random.Next(e.Prs.Count)], state = Pick(PrStates), review = Pick(Reviews), ci = Pick(Cis), merge = Pick(Merges) }, tx);
                break;
            case 4: // a PR moves to another session of the project
                await c.ExecuteAsync("UPDATE pr SET session_id = @session WHERE url = @url",
                    new { url = e.Prs[random.Next(e.Prs.Count)], session = e.Sessions[random.Next(e.Sessions.Count)] }, tx);
                break;
            case 5 or 6: // a check recorded, or its status changed
                await c.ExecuteAsync("""
                    INSERT INTO pr_checks (pr_url, name, commit_hash, status) VALUES (@pr, @name, @commit, @status)
                    ON CONFLICT (pr_url, name, commit_hash) DO UPDATE SET status = excluded.status
                    """, new
                {
                    pr = e.Prs[random.Next(e.Prs.Count)], name = Pick(["build", "test", "lint"]), commit = Pick(["c1", "c2"]),
                    status = Pick(CheckStatuses),
                }, tx);
                break;
            case 7: // a review thread opened
                var pr = e.Prs[random.Next(e.Prs.Count)];
                var thread = $"t{e.NextNumber()}";
                await c.ExecuteAsync("INSERT INTO pr_review_threads (pr_url, thread_id, path, line, is_bot) VALUES (@pr, @thread, 'src/a.cs', @line, @bot)",
                    new { pr, thread, line = random.Next(1, 500), bot = random.Next(2) == 0 }, tx);
                e.Threads.Add((pr, thread));
                break;
            default: // a review thread resolved or reopened
                if (e.Threads.Count == 0) goto case 7;
                var (threadPr, threadId) = e.Threads[random.Next(e.Threads.Count)];
                await c.ExecuteAsync("UPDATE pr_review_threads SET resolved = NOT resolved WHERE pr_url = @threadPr AND thread_id = @threadId",
                    new { threadPr, threadId }, tx);
                break;
        }
    }

    /// <summary>One writer's entities in one project (numbers unique across writers).</summary>
    private sealed class Entities(int writer)
    {
        private int _next;
        public List<string> Sessions { get; } = [];
        public List<string> Prs { get; } = [];
        public List<(string Pr, string Thread)> Threads { get; } = [];
        public int NextNumber() => writer * 1_000_000 + ++_next;
    }
}
