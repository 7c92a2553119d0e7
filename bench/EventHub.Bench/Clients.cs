using System.Buffers.Text;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using System.Net.Sockets;
using System.Net.WebSockets;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EventHub.Bench;

public enum Transport { Sse, SignalRJson, SignalRMessagePack }

/// <summary>
/// Client sockets bound to 127.0.0.2–127.0.0.201 in turn, so thousands of connections (and the
/// TIME_WAIT they leave behind across cells) never run out of ephemeral ports.
/// </summary>
public static class LocalAddressPool
{
    private static int _next;

    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var n = (uint)Interlocked.Increment(ref _next);
            socket.Bind(new IPEndPoint(new IPAddress([127, 0, 0, (byte)(2 + n % 200)]), 0));
            await socket.ConnectAsync(IPAddress.Parse(context.DnsEndPoint.Host), context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static SocketsHttpHandler Handler() => new()
    {
        ConnectCallback = ConnectAsync,
        MaxConnectionsPerServer = int.MaxValue,
        UseProxy = false,
        UseCookies = false,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    };
}

/// <summary>One streaming subscriber. Every event is reported to <see cref="OnEvent"/> with the receive time.</summary>
public abstract class BenchClient : IAsyncDisposable
{
    protected readonly CancellationTokenSource Cts = new();
    private long _count;
    public long Count => Interlocked.Read(ref _count);
    public long LastSeq { get; private set; }
    public Action<long, long>? OnEvent { get; set; }
    public Exception? Error { get; protected set; }
    public Task Completion { get; protected set; } = Task.CompletedTask;

    protected void Deliver(long seq, long timestamp)
    {
        Interlocked.Increment(ref _count);
        LastSeq = seq;
        OnEvent?.Invoke(seq, timestamp);
    }

    public virtual async ValueTask DisposeAsync()
    {
        await Cts.CancelAsync();
        try { await Completion.WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* ended */ }
        Cts.Dispose();
    }
}

/// <summary>SSE over HttpClient: a streaming parse of <c>data: {"seq":N,...}</c> lines, no JSON parse.</summary>
/// <remarks>
/// The one SSE reader of the repository that keeps its own line scan (issue 14, point 6): it is a
/// load generator running thousands of streams on the cores the hub is measured on, it timestamps
/// each read as the bytes arrive, and allocates nothing per event. System.Net.ServerSentEvents'
/// SseParser with an item parser that reads only the seq could replace it, but the bench's figures
/// are published, so the switch waits for a before/after run of <c>bench/run.sh --quick</c>.
/// </remarks>
public sealed class SseClient : BenchClient
{
    private static readonly HttpClient Http = new(LocalAddressPool.Handler()) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>Connects and returns once the response headers arrived (the hub has subscribed the stream).</summary>
    public static async Task<SseClient> ConnectAsync(Uri baseUri, string query)
    {
        var client = new SseClient();
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUri, "/api/v1/events" + query));
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(client.Cts.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"SSE connect: {(int)response.StatusCode}");
        var stream = await response.Content.ReadAsStreamAsync(client.Cts.Token);
        client.Completion = Task.Run(() => client.ReadLoopAsync(response, stream));
        return client;
    }

    private async Task ReadLoopAsync(HttpResponseMessage response, Stream stream)
    {
        var buffer = new byte[16 * 1024];
        var end = 0;
        try
        {
            while (true)
            {
                if (end == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                var n = await stream.ReadAsync(buffer.AsMemory(end), Cts.Token);
                if (n == 0) break;
                var now = Stopwatch.GetTimestamp();
                end += n;
                var pos = 0;
                while (true)
                {
                    var nl = buffer.AsSpan(pos, end - pos).IndexOf((byte)'\n');
                    if (nl < 0) break;
                    var line = buffer.AsSpan(pos, nl);
                    pos += nl + 1;
                    if (line.StartsWith("data: {\"seq\":"u8) &&
                        Utf8Parser.TryParse(line[13..], out long seq, out _))
                        Deliver(seq, now);
                }
                if (pos > 0)
                {
                    Buffer.BlockCopy(buffer, pos, buffer, 0, end - pos);
                    end -= pos;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (Exception e) when (e is IOException or HttpRequestException or ObjectDisposedException)
        {
            if (!Cts.IsCancellationRequested) Error = e;
        }
        finally
        {
            response.Dispose();
        }
    }
}

/// <summary>SignalR client (WebSockets, no negotiate round trip) over JSON or MessagePack with EventHubMessagePack.Options.</summary>
public sealed class SignalRClient : BenchClient
{
    private static readonly HttpMessageInvoker WebSocketInvoker = new(LocalAddressPool.Handler());
    private HubConnection? _connection;

    public static async Task<SignalRClient> ConnectAsync(Uri baseUri, Transport transport, StreamEventsRequest request)
    {
        var client = new SignalRClient();
        var builder = new HubConnectionBuilder()
            .WithUrl(new Uri(baseUri, EventHubPaths.Events), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                o.WebSocketFactory = async (context, cancellationToken) =>
                {
                    var ws = new ClientWebSocket();
                    await ws.ConnectAsync(context.Uri, WebSocketInvoker, cancellationToken);
                    return ws;
                };
            })
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Critical));
        if (transport == Transport.SignalRMessagePack)
            builder.AddMessagePackProtocol(o => o.SerializerOptions = EventHubMessagePack.Options);
        var connection = builder.Build();
        connection.ServerTimeout = TimeSpan.FromMinutes(5);
        connection.HandshakeTimeout = TimeSpan.FromSeconds(60);
        client._connection = connection;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            await connection.StartAsync(timeout.Token);
        var channel = await connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, request, client.Cts.Token);
        client.Completion = Task.Run(async () =>
        {
            try
            {
                while (await channel.WaitToReadAsync(client.Cts.Token))
                {
                    var now = Stopwatch.GetTimestamp();
                    while (channel.TryRead(out var e)) client.Deliver(e.Seq, now);
                }
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { if (!client.Cts.IsCancellationRequested) client.Error = e; }
        });
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_connection is not null)
            try { await _connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)); } catch { /* gone */ }
    }
}

public static class ClientFactory
{
    /// <summary>Opens <paramref name="count"/> clients, <paramref name="parallel"/> at a time; failures are counted, not thrown.</summary>
    public static async Task<(List<BenchClient> Clients, int Failed)> OpenAsync(Uri baseUri, Transport transport, int count,
        string? project, string? after, int parallel = 64, TimeSpan? budget = null)
    {
        var clients = new List<BenchClient>(count);
        var failed = 0;
        var deadline = Stopwatch.GetTimestamp() + (long)((budget ?? TimeSpan.FromMinutes(3)).TotalSeconds * Stopwatch.Frequency);
        var query = "?" + string.Join('&', new[] { project is null ? null : "project=" + project, after is null ? null : "after=" + after }
            .Where(s => s is not null));
        using var gate = new SemaphoreSlim(parallel);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                if (Stopwatch.GetTimestamp() > deadline) { Interlocked.Increment(ref failed); return; }
                BenchClient c = transport == Transport.Sse
                    ? await SseClient.ConnectAsync(baseUri, query)
                    : await SignalRClient.ConnectAsync(baseUri, transport,
                        new StreamEventsRequest { Projects = project is null ? null : [project], After = after });
                lock (clients) clients.Add(c);
            }
            catch (Exception)
            {
                Interlocked.Increment(ref failed);
            }
            finally { gate.Release(); }
        }).ToList();
        await Task.WhenAll(tasks);
        return (clients, failed);
    }

    public static async Task CloseAsync(IEnumerable<BenchClient> clients)
    {
        var list = clients.ToList();
        foreach (var chunk in list.Chunk(256))
            await Task.WhenAll(chunk.Select(c => c.DisposeAsync().AsTask()));
    }
}
