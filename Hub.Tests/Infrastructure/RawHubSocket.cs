using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace EventHub.Tests.Infrastructure;

/// <summary>
/// A SignalR connection over a bare WebSocket, speaking the wire protocol by hand: negotiate,
/// handshake, then any frame at all, including ones no real client would send.
/// </summary>
public sealed class RawHubSocket : IAsyncDisposable
{
    public const char RecordSeparator = '\u001e';

    private readonly ClientWebSocket _socket;
    private readonly HttpMessageInvoker? _invoker;

    private RawHubSocket(ClientWebSocket socket, HttpMessageInvoker? invoker)
    {
        _socket = socket;
        _invoker = invoker;
    }

    public WebSocketState State => _socket.State;

    /// <summary>Negotiates and opens the WebSocket; <paramref name="accessToken"/> goes in the query, as browsers send it.</summary>
    /// <param name="receiveBufferBytes">
    /// The socket's receive buffer (SO_RCVBUF, which also stops the kernel's autotuning, up to 32 MB
    /// here): small, a client that stops reading stops the server's sending soon.
    /// </param>
    public static async Task<RawHubSocket> ConnectAsync(Uri hub, string protocol = "json", string? accessToken = null,
        int? receiveBufferBytes = null)
    {
        var tokenQuery = accessToken is null ? "" : "&access_token=" + Uri.EscapeDataString(accessToken);
        using var http = new HttpClient { BaseAddress = hub };
        var negotiate = await http.PostAsync($"/hubs/events/negotiate?negotiateVersion=1{tokenQuery}", null).WithTimeout();
        negotiate.EnsureSuccessStatusCode();
        var body = JsonDocument.Parse(await negotiate.Content.ReadAsStringAsync()).RootElement;
        var connectionToken = body.GetProperty("connectionToken").GetString()!;

        var socket = new ClientWebSocket();
        var ws = new UriBuilder(hub) { Scheme = "ws", Path = "/hubs/events", Query = $"id={Uri.EscapeDataString(connectionToken)}{tokenQuery}" }.Uri;
        HttpMessageInvoker? invoker = null;
        if (receiveBufferBytes is int bytes)
        {
            invoker = new HttpMessageInvoker(new SocketsHttpHandler
            {
                ConnectCallback = async (context, token) =>
                {
                    var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp)
                    {
                        NoDelay = true, ReceiveBufferSize = bytes,
                    };
                    await tcp.ConnectAsync(context.DnsEndPoint, token);
                    return new System.Net.Sockets.NetworkStream(tcp, ownsSocket: true);
                },
            });
            await socket.ConnectAsync(ws, invoker, CancellationToken.None).WithTimeout();
        }
        else await socket.ConnectAsync(ws, CancellationToken.None).WithTimeout();
        var raw = new RawHubSocket(socket, invoker);
        await raw.SendTextAsync($"{{\"protocol\":\"{protocol}\",\"version\":1}}{RecordSeparator}");
        var handshake = await raw.ReceiveAsync();
        if (handshake is null || !handshake.StartsWith("{}", StringComparison.Ordinal))
            throw new InvalidOperationException("Handshake failed: " + handshake);
        return raw;
    }

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None).WithTimeout();

    public Task SendBinaryAsync(byte[] bytes) =>
        _socket.SendAsync(bytes, WebSocketMessageType.Binary, true, CancellationToken.None).WithTimeout();

    /// <summary>The next message as text (binary frames are decoded as Latin-1), or null when the server closed the socket.</summary>
    public async Task<string?> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TaskTimeouts.Default);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try { result = await _socket.ReceiveAsync(buffer, cts.Token); }
            catch (WebSocketException) { return null; }
            catch (OperationCanceledException) { throw new TimeoutException("No message from the hub in time."); }
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
                return result.MessageType == WebSocketMessageType.Text
                    ? Encoding.UTF8.GetString(message.ToArray())
                    : Encoding.Latin1.GetString(message.ToArray());
        }
    }

    /// <summary>
    /// The next SignalR message of the JSON protocol: the text up to the next record separator,
    /// whichever WebSocket messages it came in (the hub may put several in one, or one across
    /// several). Not to be mixed with <see cref="ReceiveAsync"/> on the same socket.
    /// </summary>
    public async Task<string> ReceiveRecordAsync()
    {
        while (true)
        {
            var text = _records.ToString();
            var end = text.IndexOf(RecordSeparator);
            if (end >= 0)
            {
                _records.Remove(0, end + 1);
                return text[..end];
            }
            _records.Append(await ReceiveAsync() ?? throw new EndOfStreamException("The hub closed the socket."));
        }
    }

    private readonly StringBuilder _records = new();

    /// <summary>
    /// The offsets of the next <paramref name="count"/> stream items (JSON protocol), skipping pings;
    /// any other message (a completion, an error) fails the test.
    /// </summary>
    public async Task<List<string>> ReceiveItemOffsetsAsync(int count)
    {
        var offsets = new List<string>(count);
        while (offsets.Count < count)
        {
            var message = JsonDocument.Parse(await ReceiveRecordAsync()).RootElement;
            var type = message.GetProperty("type").GetInt32();
            if (type == 6) continue; // ping
            Xunit.Assert.Equal(2, type);
            offsets.Add(message.GetProperty("item").GetProperty("offset").GetString()!);
        }
        return offsets;
    }

    /// <summary>Reads messages until one satisfies <paramref name="match"/> (skipping pings) or the socket closes (null).</summary>
    public async Task<string?> ReceiveUntilAsync(Func<string, bool> match)
    {
        // One bound for the whole wait: the hub's pings would otherwise keep an unmatched wait alive.
        var deadline = DateTime.UtcNow + TaskTimeouts.Default;
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException("No matching message from the hub in time.");
            var message = await ReceiveAsync(left);
            if (message is null || match(message)) return message;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException) { }
        _socket.Dispose();
        _invoker?.Dispose();
    }
}
