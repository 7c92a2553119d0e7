using System.Net;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A real SSE client over HttpClient. The parsing is <see cref="SseParser"/>'s
/// (System.Net.ServerSentEvents, in the shared framework): fields, multi-line data, ids, retry.
/// Only keep-alive comments, which that parser skips by design, are counted on the side
/// (<see cref="CommentCountingStream"/>). Reading is pulled by the test, never done in the
/// background: a test that stops reading stalls the connection, as a slow consumer does.
/// </summary>
public sealed class SseTestClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly SseParser<string> _parser;
    private readonly IAsyncEnumerator<SseItem<string>> _items;
    private readonly CancellationTokenSource _cts = new();
    // Frames read while waiting for a comment: the next ReadEventAsync returns them first.
    private readonly Queue<SseFrame> _buffered = new();
    // A read in flight: a timeout leaves it running for the next call instead of breaking the parser.
    private Task<bool>? _pending;
    private TaskCompletionSource _commentArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _commentCount;
    private int _disposed;

    private SseTestClient(HttpClient http, HttpResponseMessage response, Stream body)
    {
        _http = http;
        _response = response;
        _parser = SseParser.Create(new CommentCountingStream(body, OnComment));
        _items = _parser.EnumerateAsync(_cts.Token).GetAsyncEnumerator(_cts.Token);
    }

    public HttpResponseHeaders Headers => _response.Headers;
    public HttpContentHeaders ContentHeaders => _response.Content.Headers;
    public int CommentCount => Volatile.Read(ref _commentCount);

    /// <summary>The last <c>retry:</c> hint read so far, in milliseconds.</summary>
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
        return new SseTestClient(http, response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>Reads the next event frame (comments and retry-only blocks are counted, not returned).</summary>
    public async Task<SseFrame> ReadEventAsync(TimeSpan? timeout = null)
    {
        if (_buffered.TryDequeue(out var buffered)) return buffered;
        var read = _pending ??= _items.MoveNextAsync().AsTask();
        if (await Task.WhenAny(read, Task.Delay(timeout ?? TaskTimeouts.Default, _cts.Token)) != read)
            throw new TimeoutException("No SSE event arrived in time.");
        return TakeRead();
    }

    public async Task<List<SseFrame>> ReadEventsAsync(int count, TimeSpan? timeout = null)
    {
        var frames = new List<SseFrame>(count);
        for (var i = 0; i < count; i++) frames.Add(await ReadEventAsync(timeout));
        return frames;
    }

    /// <summary>Reads until more than <paramref name="afterCount"/> comment lines (keep-alives) arrived; frames read meanwhile are kept for <see cref="ReadEventAsync"/>.</summary>
    public async Task WaitForCommentAsync(int afterCount, TimeSpan? timeout = null)
    {
        var deadline = Task.Delay(timeout ?? TaskTimeouts.Default, _cts.Token);
        while (CommentCount <= afterCount)
        {
            var comment = Volatile.Read(ref _commentArrived).Task;
            if (CommentCount > afterCount) break;
            var read = _pending ??= _items.MoveNextAsync().AsTask();
            var done = await Task.WhenAny(read, comment, deadline);
            if (done == deadline) throw new TimeoutException("No SSE comment arrived in time.");
            if (done == read) _buffered.Enqueue(TakeRead());
        }
    }

    /// <summary>The frame of the completed read.</summary>
    private SseFrame TakeRead()
    {
        var read = _pending!;
        _pending = null;
        if (!read.GetAwaiter().GetResult()) throw new EndOfStreamException("The SSE stream ended.");
        var item = _items.Current;
        if (_parser.ReconnectionInterval > TimeSpan.Zero && _parser.ReconnectionInterval != Timeout.InfiniteTimeSpan)
            Retry = (int)_parser.ReconnectionInterval.TotalMilliseconds;
        return new SseFrame(item.EventId, item.EventType, item.Data,
            item.ReconnectionInterval is { } r ? (int)r.TotalMilliseconds : null);
    }

    private void OnComment()
    {
        Interlocked.Increment(ref _commentCount);
        Interlocked.Exchange(ref _commentArrived, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // a test may close it early
        await _cts.CancelAsync();
        _pending?.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // a read cut off by the dispose
        _response.Dispose();
        _http.Dispose();
        _cts.Dispose();
    }
}
