using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace EventHub.Bench;

/// <summary>
/// The naive implementation the issue compares against (not shipped): an SSE server where every
/// client polls change_log every 100 ms with its own query, as the upstream Go daemon does. It
/// follows a plain seq cursor (it has the ordering trap; that is not what is measured here) and
/// serialises each row for each client. A full batch is followed by an immediate next poll, so
/// catch-up is not throttled to one batch per 100 ms. Run as a separate process, like the hub.
/// </summary>
public static class BaselineServer
{
    public const int BatchSize = 1000;
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);

    public static async Task RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        var connectionString = builder.Configuration.GetConnectionString("EventHub")
            ?? throw new InvalidOperationException("ConnectionStrings:EventHub is required");
        // Clients wait for a pooled connection rather than fail (the pool is the natural bottleneck of this design).
        var csb = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 100, Timeout = 120, Pooling = true };
        builder.Services.AddSingleton(NpgsqlDataSource.Create(csb.ConnectionString));
        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        app.MapGet("/api/v1/events", HandleAsync);
        await app.RunAsync();
    }

    private static async Task HandleAsync(HttpContext context, NpgsqlDataSource db)
    {
        var ct = context.RequestAborted;
        string? project = context.Request.Query["project"];
        string? after = context.Request.Query["after"];
        long last;
        try
        {
            if (after is not null) last = long.Parse(after, CultureInfo.InvariantCulture);
            else
            {
                await using var c = await db.OpenConnectionAsync(ct);
                await using var max = new NpgsqlCommand("SELECT coalesce(max(seq), 0) FROM change_log", c);
                last = (long)(await max.ExecuteScalarAsync(ct))!;
            }
            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            var output = context.Response.BodyWriter;
            output.Write(": connected\n\n"u8);
            await output.FlushAsync(ct);

            var sql = project is null
                ? "SELECT seq, project_id, session_id, event_type, payload::text, created_at FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2"
                : "SELECT seq, project_id, session_id, event_type, payload::text, created_at FROM change_log WHERE project_id = $3 AND seq > $1 ORDER BY seq LIMIT $2";
            while (!ct.IsCancellationRequested)
            {
                var rows = 0;
                await using (var c = await db.OpenConnectionAsync(ct))
                await using (var cmd = new NpgsqlCommand(sql, c))
                {
                    cmd.Parameters.AddWithValue(last);
                    cmd.Parameters.AddWithValue(BatchSize);
                    if (project is not null) cmd.Parameters.AddWithValue(project);
                    await using var reader = await cmd.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        rows++;
                        last = reader.GetInt64(0);
                        WriteFrame(output, last, reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                            reader.GetString(3), reader.GetString(4), reader.GetDateTime(5));
                    }
                }
                await output.FlushAsync(ct);
                if (rows < BatchSize) await Task.Delay(PollInterval, ct);
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException) { }
    }

    private static void WriteFrame(IBufferWriter<byte> output, long seq, string project, string? session, string type,
        string payload, DateTime createdAt)
    {
        var head = Encoding.UTF8.GetBytes($"id: {seq}\nevent: {type}\ndata: ");
        output.Write(head);
        using (var json = new Utf8JsonWriter(output))
        {
            json.WriteStartObject();
            json.WriteNumber("seq", seq);
            json.WriteString("projectId", project);
            if (session is null) json.WriteNull("sessionId"); else json.WriteString("sessionId", session);
            json.WriteString("type", type);
            json.WritePropertyName("payload");
            json.WriteRawValue(payload);
            json.WriteString("createdAt", DateTime.SpecifyKind(createdAt, DateTimeKind.Utc));
            json.WriteString("offset", seq.ToString(CultureInfo.InvariantCulture));
            json.WriteEndObject();
        }
        output.Write("\n\n"u8);
    }
}
