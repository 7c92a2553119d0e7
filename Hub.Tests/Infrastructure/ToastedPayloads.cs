using Dapper;
using Npgsql;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// Payloads large enough to be stored out of line (TOAST) and that do not compress (hex of md5s),
/// and the count of TOAST blocks a session has read: what tells whether a statement fetched them.
/// </summary>
public static class ToastedPayloads
{
    /// <summary>
    /// <paramref name="rows"/> change_log rows of project <c>p</c> in one statement, each payload
    /// <c>{"n": g, "body": ...}</c> with a body of <paramref name="bodyBytes"/> (a multiple of 32).
    /// </summary>
    public static Task InsertAsync(NpgsqlConnection c, int rows, int bodyBytes) =>
        c.ExecuteAsync("""
            INSERT INTO change_log (project_id, event_type, payload)
            SELECT 'p', 'doc_updated', jsonb_build_object('n', g, 'body', (SELECT string_agg(md5(g || '-' || i), '') FROM generate_series(1, @md5s) i))
            FROM generate_series(1, @rows) g
            """, new { rows, md5s = bodyBytes / 32 });

    /// <summary>
    /// Blocks of change_log's TOAST table read or found in shared buffers so far, with this
    /// session's statistics flushed first (another session's may not be yet).
    /// </summary>
    public static async Task<long> BlocksReadAsync(NpgsqlConnection c)
    {
        await c.ExecuteAsync("SELECT pg_stat_force_next_flush()");
        return await c.QuerySingleAsync<long>(
            "SELECT coalesce(toast_blks_read, 0) + coalesce(toast_blks_hit, 0) FROM pg_statio_user_tables WHERE relname = 'change_log'");
    }
}
