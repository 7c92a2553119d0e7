using System.Text.Json;
using Dapper;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.Storage;

/// <summary>
/// Migration 0008: sessions' first signal and preview (shared/reference/cdc-contract.md, section 2).
/// session_updated fires when first_signal_at goes from NULL to set and when preview_url or
/// preview_revision changes, and carries previewUrl and previewRevision; session_created keeps its
/// three fields.
/// </summary>
public sealed class SessionPreviewTriggerTests
{
    [Fact]
    public async Task Session_updated_fires_on_a_first_signal_and_on_preview_changes_and_carries_the_preview()
    {
        await using var db = await TestDatabase.CreateAsync();
        var s = await db.Writer.SessionAsync("ao", 1);

        await db.Writer.ExecuteAsync("UPDATE sessions SET first_signal_at = now() WHERE id = @s", new { s });
        await db.Writer.ExecuteAsync("UPDATE sessions SET first_signal_at = now() + interval '1 minute' WHERE id = @s", new { s }); // not the first: no row
        await db.Writer.ExecuteAsync("UPDATE sessions SET preview_url = 'https://preview.example/ao-1' WHERE id = @s", new { s });
        await db.Writer.ExecuteAsync("UPDATE sessions SET preview_revision = 2 WHERE id = @s", new { s });
        await db.Writer.ExecuteAsync("UPDATE sessions SET preview_url = NULL WHERE id = @s", new { s });
        await db.Writer.ExecuteAsync("UPDATE sessions SET branch = 'other', updated_at = now() WHERE id = @s", new { s }); // nothing watched: no row

        var rows = await RowsAsync(db);
        Assert.Equal(["session_created", "session_updated", "session_updated", "session_updated", "session_updated"], rows.Select(r => r.Type));
        Assert.Equal("""{"id": "ao-1", "activity": "active", "isTerminated": false}""", rows[0].Payload); // created: its three fields
        Assert.Equal([(null, 0), ("https://preview.example/ao-1", 0), ("https://preview.example/ao-1", 2), (null, 2)],
            rows.Skip(1).Select(r => Preview(r.Payload)));
        Assert.All(rows, r => Assert.Equal("ao-1", r.Session));
    }

    [Fact]
    public async Task Activity_and_termination_changes_still_fire_and_now_carry_the_preview_too()
    {
        await using var db = await TestDatabase.CreateAsync();
        var s = await db.Writer.SessionAsync("ao", 1);
        await db.Writer.ExecuteAsync("UPDATE sessions SET preview_url = 'https://p.example', preview_revision = 5 WHERE id = @s", new { s });
        await db.Writer.SessionActivityAsync(s, "idle");
        await db.Writer.SessionActivityAsync(s, "idle", terminated: true);

        var rows = await RowsAsync(db);
        using var last = JsonDocument.Parse(rows[^1].Payload);
        Assert.Equal(4, rows.Count);
        Assert.Equal(("idle", true), (last.RootElement.GetProperty("activity").GetString(), last.RootElement.GetProperty("isTerminated").GetBoolean()));
        Assert.Equal(("https://p.example", 5), Preview(rows[^1].Payload));
    }

    private static (string? Url, int Revision) Preview(string payload)
    {
        using var doc = JsonDocument.Parse(payload);
        var url = doc.RootElement.GetProperty("previewUrl");
        return (url.ValueKind == JsonValueKind.Null ? null : url.GetString(), doc.RootElement.GetProperty("previewRevision").GetInt32());
    }

    private static async Task<List<(string Type, string? Session, string Payload)>> RowsAsync(TestDatabase db)
    {
        await using var c = await db.DataSource.OpenConnectionAsync();
        return (await c.QueryAsync<(string, string?, string)>(
            "SELECT event_type, session_id, payload::text FROM change_log ORDER BY seq")).ToList();
    }
}
