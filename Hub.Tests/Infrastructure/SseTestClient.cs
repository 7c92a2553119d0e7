using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace EventHub.Tests.Infrastructure;

/// <summary>One SSE frame as a client parses it.</summary>
public sealed record SseFrame(string? Id, string? Event, string Data, int? Retry)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
    public JsonElement Payload => Json.GetProperty("payload");
    public string Type => Json.GetProperty("type").GetString()!;
    public string ProjectId => Json.GetProperty("projectId").GetString()!;
}

/// <summary>
/// A real SSE client over HttpClient, parsing the stream per the HTML spec's rules
/// (fields, multi-line data, comments, retry).
/// </summary>
public sealed class SseTestClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly CancellationTokenSource _cts = new();

    private SseTestClient(HttpClient http, HttpResponseMessage response, StreamReader reader)
    {
        _http = http;
        _response = response;
        _reader = reader;
    }

    public HttpResponseHeaders Headers => _response.Headers;
    public HttpContentHeaders ContentHeaders => _response.Content.Headers;
    public int CommentCount { get; private set; }
    public int? Retry { get; private set; }

    public static async Task<SseTestClient> ConnectAsync(Uri hub, string query = "", string? lastEventId = null, string? bearer = null)
    {
        var http = new HttpClient { BaseAddress = hub, Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events" + (query.Length > 0 ? "?" + query : ""));
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync();
            throw new HttpRequestException($"SSE connect failed: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        var stream = await response.Content.ReadAsStreamAsync();
        return new SseTestClient(http, response, new StreamReader(stream, Encoding.UTF8));
    }

    /// <summary>Reads the next event frame (comments and retry-only blocks are counted, not returned).</summary>
    public async Task<SseFrame> ReadEventAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        cts.CancelAfter(timeout ?? TaskTimeouts.Default);
        string? id = null, type = null;
        int? retry = null;
        var data = new StringBuilder();
        var hasData = false;
        while (true)
        {
            string? line;
            try { line = await _reader.ReadLineAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException("No SSE event arrived in time."); }
            if (line is null) throw new EndOfStreamException("The SSE stream ended.");
            if (line.Length == 0)
            {
                if (hasData) return new SseFrame(id, type, data.ToString(), retry);
                id = type = null; data.Clear();
                continue;
            }
            if (line[0] == ':') { CommentCount++; continue; }
            var colon = line.IndexOf(':');
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' ')) value = value[1..];
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data":
                    if (hasData) data.Append('\n');
                    data.Append(value); hasData = true; break;
                case "retry" when int.TryParse(value, out var r): retry = r; Retry = r; break;
            }
        }
    }

    public async Task<List<SseFrame>> ReadEventsAsync(int count, TimeSpan? timeout = null)
    {
        var frames = new List<SseFrame>(count);
        for (var i = 0; i < count; i++) frames.Add(await ReadEventAsync(timeout));
        return frames;
    }

    /// <summary>Reads until a comment line arrives (keep-alive).</summary>
    public async Task WaitForCommentAsync(int afterCount, TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
        cts.CancelAfter(timeout ?? TaskTimeouts.Default);
        while (CommentCount <= afterCount)
        {
            var line = await _reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException();
            if (line.StartsWith(':')) CommentCount++;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync();
        _response.Dispose();
        _http.Dispose();
        _cts.Dispose();
    }
}
