#:project ../clients/dotnet/EventHub.Client/EventHub.Client.csproj
#:property Configuration=Release
#:property PublishAot=false
#:property JsonSerializerIsReflectionEnabledByDefault=true
// A SignalR client on a slow link: its socket's receive buffer 16 KB, its reads throttled to RATE bytes/s.
// Fetches the state of PROJECT once with GetState (one message) and once as StreamState pages, and
// prints how long each took or how it failed.
//
//   dotnet run bench/state-slow-link.cs -- <hub base URL> PROJECT RATE
//
// Results: bench/results/2026-12-06-state-slow-link.md.
using System.Diagnostics;
using System.Net.Sockets;
using EventHub.Contracts;
using Microsoft.AspNetCore.SignalR.Client;

var hub = args[0]; var project = args[1]; var rate = int.Parse(args[2]);
HubConnection Build() => new HubConnectionBuilder().WithUrl(hub + "/hubs/events", o =>
{
    o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets;
    o.SkipNegotiation = true;
    o.WebSocketFactory = async (context, token) =>
    {
        var ws = new System.Net.WebSockets.ClientWebSocket();
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (ctx, ct) =>
            {
                var s = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 16384, NoDelay = true };
                await s.ConnectAsync(ctx.DnsEndPoint, ct);
                return new Throttled(new NetworkStream(s, ownsSocket: true), rate);
            },
        };
        await ws.ConnectAsync(context.Uri, new HttpMessageInvoker(handler), token);
        return ws;
    };
}).Build();

var request = new StreamEventsRequest { Projects = [project] };
foreach (var way in new[] { "GetState", "StreamState" })
{
    await using var c = Build();
    var clock = Stopwatch.StartNew();
    try
    {
        await c.StartAsync();
        int n;
        if (way == "GetState") n = (await c.InvokeAsync<LiveState>("GetState", request)).Entities.Count;
        else { n = 0; await foreach (var page in c.StreamAsync<LiveStatePage>("StreamState", request)) n += page.Entities.Count; }
        Console.WriteLine($"{way}: {n} entities in {clock.Elapsed.TotalSeconds:F1} s");
    }
    catch (Exception e) { Console.WriteLine($"{way}: failed after {clock.Elapsed.TotalSeconds:F1} s: {e.GetType().Name}: {e.Message}"); }
}

sealed class Throttled(Stream inner, int rate) : Stream
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _read;
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, 4096)], ct);
        _read += n;
        var due = TimeSpan.FromSeconds((double)_read / rate) - _clock.Elapsed;
        if (due > TimeSpan.Zero) await Task.Delay(due, ct);
        return n;
    }
    public override int Read(byte[] b, int o, int c) => ReadAsync(b.AsMemory(o, c)).AsTask().GetAwaiter().GetResult();
    public override ValueTask WriteAsync(ReadOnlyMemory<byte> b, CancellationToken ct = default) => inner.WriteAsync(b, ct);
    public override void Write(byte[] b, int o, int c) => inner.Write(b, o, c);
    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
    public override void Flush() => inner.Flush();
    public override bool CanRead => true; public override bool CanWrite => true; public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException(); public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long o, SeekOrigin s) => throw new NotSupportedException(); public override void SetLength(long v) => throw new NotSupportedException();
    protected override void Dispose(bool d) { if (d) inner.Dispose(); base.Dispose(d); }
}
