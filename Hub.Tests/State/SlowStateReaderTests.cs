using System.Net.Sockets;
using System.Text.Json;
using EventHub.Tests.Infrastructure;

namespace EventHub.Tests.State;

/// <summary>
/// A client that stops reading the state midway holds no state read (<c>StateReadAhead</c>): with
/// one read at a time, another client's read goes through meanwhile, and the stalled client then
/// reads the whole state. Over SignalR (<c>StreamState</c>) and HTTP (<c>GET /api/v1/state</c>).
/// </summary>
/// <remarks>
/// The state is ~49 MB, far more than the stalled client's socket (a small receive buffer) and the
/// hub's socket hold. Read at the client's pace, the other read waited ~10 s over SignalR (until the
/// stalled connection was dropped) and past the test's bound over HTTP.
/// </remarks>
public sealed class SlowStateReaderTests : IAsyncLifetime
{
    private const int Entities = 40_000;
    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync();
        // One state read at a time, so a read held by the stalled client would stop every other.
        _hub = await HubServer.StartAsync(_db.ConnectionString, new Dictionary<string, string?>
        {
            ["Limits:MaxConcurrentStateReads"] = "1",
            ["SignalR:StatePageEntities"] = "50",
        });
        await _db.Writer.ExecuteAsync($"""
            INSERT INTO change_log (project_id, session_id, event_type, payload)
            SELECT 'big', 'big-' || g, 'session_created', jsonb_build_object('id', 'big-' || g, 'pad', repeat('x', 1000))
            FROM generate_series(1, {Entities}) g
            """);
        _http = new HttpClient { BaseAddress = _hub.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        await TaskTimeouts.UntilAsync(async () => await HttpStateAsync() == Entities, TimeSpan.FromSeconds(60), "the state was not folded");
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    private async Task<int> HttpStateAsync()
    {
        using var doc = JsonDocument.Parse(await _http.GetStreamAsync("/api/v1/state?project=big").WithTimeout());
        return doc.RootElement.GetProperty("entities").GetArrayLength();
    }

    [Fact]
    public async Task A_SignalR_client_that_stops_reading_the_pages_holds_no_state_read()
    {
        await using var stalled = await RawHubSocket.ConnectAsync(_hub.BaseAddress, receiveBufferBytes: 64 * 1024);
        await stalled.SendTextAsync("{\"type\":4,\"invocationId\":\"1\",\"target\":\"StreamState\",\"arguments\":[{\"projects\":[\"big\"]}]}" + RawHubSocket.RecordSeparator);
        var (first, _) = await ReadPagesAsync(stalled, 1); // its first page; then it reads no more for a while

        Assert.Equal(Entities, await HttpStateAsync());

        var (rest, error) = await ReadPagesAsync(stalled, int.MaxValue);
        Assert.Null(error);
        Assert.Equal(Entities, first + rest);
    }

    [Fact]
    public async Task An_HTTP_client_that_stops_reading_the_body_holds_no_state_read()
    {
        // A raw socket, so nothing reads ahead on the client's side.
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 64 * 1024 };
        await socket.ConnectAsync("127.0.0.1", _hub.BaseAddress.Port).WithTimeout();
        await socket.SendAsync("GET /api/v1/state?project=big HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"u8.ToArray());
        var response = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (response.Length < 1024) response.Write(buffer, 0, await socket.ReceiveAsync(buffer).WithTimeout());
        // The body has begun; the client reads no more for a while.

        Assert.Equal(Entities, await HttpStateAsync());

        int n;
        while ((n = await socket.ReceiveAsync(buffer).WithTimeout()) > 0) response.Write(buffer, 0, n);
        Assert.Equal(Entities, JsonDocument.Parse(Dechunk(response.ToArray())).RootElement.GetProperty("entities").GetArrayLength());
    }

    /// <summary>The body of an HTTP/1.1 response with chunked transfer encoding.</summary>
    private static byte[] Dechunk(byte[] response)
    {
        var at = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        var body = new MemoryStream();
        while (true)
        {
            var line = response.AsSpan(at).IndexOf("\r\n"u8);
            var size = Convert.ToInt32(System.Text.Encoding.ASCII.GetString(response, at, line), 16);
            at += line + 2;
            if (size == 0) return body.ToArray();
            body.Write(response, at, size);
            at += size + 2;
        }
    }

    /// <summary>
    /// The entities of the next <paramref name="pages"/> pages of the stream (JSON protocol), or of
    /// all up to its completion and the completion's error, if any.
    /// </summary>
    private static async Task<(int Entities, string? Error)> ReadPagesAsync(RawHubSocket socket, int pages)
    {
        var entities = 0;
        for (var read = 0; read < pages;)
        {
            using var message = JsonDocument.Parse(await socket.ReceiveRecordAsync());
            var root = message.RootElement;
            switch (root.GetProperty("type").GetInt32())
            {
                case 2:
                    entities += root.GetProperty("item").GetProperty("entities").GetArrayLength();
                    read++;
                    break;
                case 3: return (entities, root.TryGetProperty("error", out var error) ? error.GetString() : null);
            }
        }
        return (entities, null);
    }

}
