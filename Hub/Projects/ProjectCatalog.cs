using Dapper;
using Npgsql;

namespace EventHub.Projects;

/// <summary>
/// The projects the orchestrator has registered (its <c>projects</c> table), for a client that
/// offers a choice of project before it has seen any of their events (the viewer's picker).
/// </summary>
public sealed class ProjectCatalog(NpgsqlDataSource dataSource)
{
    /// <summary>Most projects one answer lists: the table is the orchestrator's, not the hub's.</summary>
    public const int MaxProjects = 10_000;

    /// <summary>
    /// The registered projects in id order (ordinal), only those of <paramref name="only"/> when it
    /// names any, at most <see cref="MaxProjects"/>.
    /// </summary>
    public async Task<IReadOnlyList<ProjectEntry>> ReadAsync(IReadOnlyList<string> only, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ProjectEntry>(new CommandDefinition($"""
            SELECT id AS "Id", display_name AS "DisplayName", archived_at IS NOT NULL AS "Archived"
            FROM projects
            WHERE cardinality(@Only) = 0 OR id = ANY(@Only)
            ORDER BY id COLLATE "C"
            LIMIT {MaxProjects}
            """, new { Only = only.ToArray() }, cancellationToken: cancellationToken));
        return rows.AsList();
    }
}
