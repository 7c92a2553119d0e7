using System.Net;
using System.Text;
using System.Text.Json;
using CsCheck;
using EventHub.Auth;
using EventHub.Contracts;
using EventHub.Streaming;
using EventHub.Tests.Infrastructure;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace EventHub.Tests.Auth;

/// <summary>
/// Hostile input on both transports: every input gets a valid stream or a clear error, and a
/// healthy SSE stream and a healthy hub stream of another client keep receiving throughout.
/// Property-based with CsCheck (bounded iterations, one thread: each input is a real request).
/// </summary>
public sealed class HostileInputTests : IAsyncLifetime
{
    private const string Healthy = "healthy";

    private TestDatabase _db = null!;
    private HubServer _hub = null!;
    private SseTestClient _healthySse = null!;
    private EventsHubClient _healthyClient = null!;
    private TestEventStream _healthyHub = null!;
    private int _healthyEvents;

    private static readonly HashSet<string> KnownCodes =
    [
        StreamErrorCodes.InvalidOffset, ResetReasons.ForeignLog, StreamErrorCodes.OffsetOutOfRange,
        StreamErrorCodes.InvalidProject, StreamErrorCodes.InvalidType, StreamErrorCodes.TooManyProjects,
        StreamErrorCodes.TooManyTypes, StreamErrorCodes.MissingRequest, AccessErrorCodes.TooManyStreams,
    ];

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(nameof(HostileInputTests));
        _hub = await HubServer.StartAsync(_db.ConnectionString);
        _healthySse = await SseTestClient.ConnectAsync(_hub.BaseAddress, $"project={Healthy}&after=0");
        _healthyClient = await EventsHubClient.ConnectAsync(_hub.BaseAddress, WireProtocol.MessagePack);
        _healthyHub = await _healthyClient.StreamAsync([Healthy], after: "0");
    }

    public async Task DisposeAsync()
    {
        await _healthyClient.DisposeAsync();
        await _healthySse.DisposeAsync();
        await _hub.DisposeAsync();
        await _db.DisposeAsync();
    }

    /// <summary>Writes one event of the healthy project and checks that both healthy streams get it next.</summary>
    private async Task AssertHealthyStreamsReceiveAsync()
    {
        var n = ++_healthyEvents;
        await _db.Writer.SessionAsync(Healthy, n);
        Assert.Equal($"{Healthy}-{n}", (await _healthySse.ReadEventAsync()).Payload.GetProperty("id").GetString());
        Assert.Equal($"{Healthy}-{n}", (await _healthyHub.ReadAsync()).SessionId);
    }

    // ---- generators -------------------------------------------------------------------------

    private static readonly Gen<string> AnyText = Gen.String[0, 40];
    private static readonly Gen<string> Printable = Gen.Char[' ', '~'].Array[0, 60].Select(c => new string(c));

    private static readonly Gen<string> ProjectLike = Gen.OneOf(
        Gen.Int[0, 9].Select(i => $"p{i}"), Gen.Const(""), AnyText, Printable,
        Gen.Int[120, 140].Select(n => new string('p', n)), Gen.Const("a\nb"), Gen.Const(ProjectScope.Wildcard));

    private static readonly Gen<string> TypeLike = Gen.OneOf(
        Gen.Const("pr_*"), Gen.Const("session_created"), Gen.Const("*"), Gen.Const(""), AnyText, Printable,
        Gen.Int[60, 70].Select(n => new string('t', n)));

    private static readonly Gen<string> OffsetLike = Gen.OneOf(
        Gen.Const("0"), Gen.Const(""), AnyText, Printable, Gen.Const("zz.1.1"), Gen.Const("abc.-1.5"),
        Gen.Long.Select(l => $"e.{l}.{l}"), Gen.Int[60, 80].Select(n => new string('9', n)));

    // ---- SSE ---------------------------------------------------------------------------------

    private static readonly Gen<string> QueryValue = Gen.OneOf(
        ProjectLike.Select(Uri.EscapeDataString), TypeLike.Select(Uri.EscapeDataString), OffsetLike.Select(Uri.EscapeDataString),
        Gen.OneOf(Gen.Const("%"), Gen.Const("%zz"), Gen.Const("%FF%FE"), Gen.Const("%00"), Gen.Const("a=b"), Gen.Const("&&")),
        Gen.Int[3000, 9000].Select(n => new string('x', n)));

    private static readonly Gen<string> QueryKey = Gen.OneOf(
        Gen.Const("project"), Gen.Const("type"), Gen.Const("after"), Gen.Const("access_token"), Gen.Const("Project"),
        Printable.Select(Uri.EscapeDataString));

    private static readonly Gen<(string Query, string? LastEventId)> SseInput = Gen.Select(
        Gen.Select(QueryKey, QueryValue, (k, v) => k + "=" + v).Array[0, 8].Select(p => string.Join("&", p)),
        Gen.OneOf(Gen.Const((string?)null), Printable.Select(s => (string?)s), Gen.Const((string?)"0"),
            Gen.Int[9000, 12000].Select(n => (string?)new string('9', n))),
        (q, id) => (q, id));

    [Fact]
    public async Task Every_SSE_query_and_Last_Event_ID_gets_a_stream_or_a_clear_error_and_healthy_streams_keep_receiving()
    {
        using var http = new HttpClient { BaseAddress = _hub.BaseAddress, Timeout = TaskTimeouts.Default };
        var iteration = 0;
        await SseInput.SampleAsync(async input =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/events?" + input.Query);
            if (input.LastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", input.LastEventId);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WithTimeout();
            var oversized = input.Query.Length > 8000 || input.LastEventId?.Length > 8000;
            switch (response.StatusCode)
            {
                case HttpStatusCode.OK:
                    Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
                    break;
                case HttpStatusCode.BadRequest:
                    var body = await response.Content.ReadAsStringAsync().WithTimeout();
                    var code = JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString();
                    Assert.True(code is not null && KnownCodes.Contains(code), $"unknown error code in {body}");
                    break;
                case HttpStatusCode.RequestUriTooLong or HttpStatusCode.RequestHeaderFieldsTooLarge when oversized:
                    break; // Kestrel's request-line and header limits
                default:
                    Assert.Fail($"{(int)response.StatusCode} for ?{Truncate(input.Query)} Last-Event-ID: {Truncate(input.LastEventId)}");
                    break;
            }
            if (++iteration % 25 == 0) await AssertHealthyStreamsReceiveAsync();
        }, iter: 200, threads: 1, print: i => $"?{Truncate(i.Query)} Last-Event-ID: {Truncate(i.LastEventId)}");
        Assert.True(iteration >= 200, $"only {iteration} inputs were tried");
        await AssertHealthyStreamsReceiveAsync();
    }

    // ---- hub requests ------------------------------------------------------------------------

    private static readonly Gen<StreamEventsRequest?> HubRequest = Gen.Frequency(
        (1, Gen.Const((StreamEventsRequest?)null)),
        (12, Gen.Select(
            Gen.OneOf(Gen.Const((string[]?)null), ProjectLike.Array[0, 4].Select(a => (string[]?)a), ProjectLike.Array[95, 110].Select(a => (string[]?)a)),
            Gen.OneOf(Gen.Const((string[]?)null), TypeLike.Array[0, 4].Select(a => (string[]?)a), TypeLike.Array[45, 55].Select(a => (string[]?)a)),
            Gen.OneOf(Gen.Const((string?)null), OffsetLike.Select(o => (string?)o)),
            (p, t, a) => (StreamEventsRequest?)new StreamEventsRequest { Projects = p, Types = t, After = a })));

    [Theory]
    [InlineData(WireProtocol.Json)]
    [InlineData(WireProtocol.MessagePack)]
    public async Task Every_hub_request_gets_a_stream_or_a_clear_HubException_and_healthy_streams_keep_receiving(WireProtocol protocol)
    {
        await using var client = await EventsHubClient.ConnectAsync(_hub.BaseAddress, protocol);
        var iteration = 0;
        await HubRequest.SampleAsync(async request =>
        {
            using var cancel = new CancellationTokenSource();
            var reader = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, request, cancel.Token).WithTimeout();
            // A marker that fails at once. The hub runs one invocation of a connection at a time
            // and answers in order, so once the marker's error is here, the request's error (if any) is too.
            var marker = await client.Connection.StreamAsChannelAsync<ChangeEvent>(EventHubMethods.StreamEvents, (StreamEventsRequest?)null).WithTimeout();
            var markerError = await Assert.ThrowsAsync<HubException>(() => marker.Completion.WithTimeout());
            Assert.Contains("missing_request:", markerError.Message);

            if (reader.Completion.IsCompleted)
            {
                var error = await Assert.ThrowsAsync<HubException>(() => reader.Completion);
                Assert.True(KnownCodes.Any(c => error.Message.Contains(c + ":", StringComparison.Ordinal)), error.Message);
            }
            await cancel.CancelAsync(); // a valid stream: done with it
            Assert.Equal(HubConnectionState.Connected, client.Connection.State);
            if (++iteration % 25 == 0) await AssertHealthyStreamsReceiveAsync();
        }, iter: 150, threads: 1, print: r => r is null ? "null" : Truncate(JsonSerializer.Serialize(r)));
        Assert.True(iteration >= 150, $"only {iteration} inputs were tried");
        await AssertHealthyStreamsReceiveAsync();
    }

    // ---- raw frames ---------------------------------------------------------------------------

    public static TheoryData<string, string, bool> HostileFrames => new()
    {
        // name, frame, whether the hub closes the connection (else it answers with an error and goes on)
        { "malformed JSON", "{not json", true },
        { "a JSON array instead of a message", "[1,2,3]", true },
        { "a message without a type", """{"target":"StreamEvents"}""", true },
        { "an unknown hub method", """{"type":4,"invocationId":"1","target":"NoSuchMethod","arguments":[]}""", false },
        { "a number for the request", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[42]}""", false },
        { "a string for the request", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":["all"]}""", false },
        { "a string for the projects", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":"a"}]}""", false },
        { "numbers for the projects", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"projects":[1,2]}]}""", false },
        { "an object for the offset", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{"after":{}}]}""", false },
        { "two arguments", """{"type":4,"invocationId":"1","target":"StreamEvents","arguments":[{},{}]}""", false },
        { "a non-streaming call of the stream", """{"type":1,"invocationId":"1","target":"StreamEvents","arguments":[{}]}""", false },
    };

    [Theory]
    [MemberData(nameof(HostileFrames))]
    public async Task A_hostile_JSON_frame_gets_an_error_or_closes_that_connection_only(string name, string frame, bool closes)
    {
        Assert.NotEmpty(name);
        await using var socket = await RawHubSocket.ConnectAsync(_hub.BaseAddress);
        await socket.SendTextAsync(frame + RawHubSocket.RecordSeparator);
        if (closes)
        {
            var close = await socket.ReceiveUntilAsync(m => m.Contains("\"type\":7"));
            if (close is not null) Assert.Contains("error", close);
        }
        else
        {
            var completion = await socket.ReceiveUntilAsync(m => m.Contains("\"type\":3"));
            Assert.NotNull(completion);
            Assert.Contains("\"error\":", completion);
            await AssertConnectionGoesOnAsync(socket, """{"type":4,"invocationId":"next","target":"StreamEvents","arguments":[null]}""" + RawHubSocket.RecordSeparator, binary: false);
        }
        await AssertHealthyStreamsReceiveAsync();
    }

    public static TheoryData<string, byte[], bool> HostileMessagePackFrames => new()
    {
        { "bytes that are not MessagePack", [0x05, 0xc1, 0xc1, 0xc1, 0xc1, 0xc1], true },
        { "a message that is not an array", [0x02, 0xa1, 0x78], true },
        // A huge declared length: the hub buffers at most its message size limit (32 KiB), then closes.
        { "a 2 GiB length followed by more than the size limit", [0xff, 0xff, 0xff, 0xff, 0x07, .. new byte[40_000]], true },
        { "an unknown hub method", Frame([0x96, 0x04, 0x80, 0xa1, 0x31, 0xac, .. "NoSuchMethod"u8, 0x90, 0x90]), false },
        { "a number for the request", Frame([0x96, 0x04, 0x80, 0xa1, 0x31, 0xac, .. "StreamEvents"u8, 0x91, 0x2a, 0x90]), false },
        { "a number for the projects", Frame([0x96, 0x04, 0x80, 0xa1, 0x31, 0xac, .. "StreamEvents"u8, 0x91, 0x81, 0xa8, .. "projects"u8, 0x2a, 0x90]), false },
    };

    [Theory]
    [MemberData(nameof(HostileMessagePackFrames))]
    public async Task A_hostile_MessagePack_frame_gets_an_error_or_closes_that_connection_only(string name, byte[] frame, bool closes)
    {
        Assert.NotEmpty(name);
        await using var socket = await RawHubSocket.ConnectAsync(_hub.BaseAddress, "messagepack");
        await socket.SendBinaryAsync(frame);
        if (closes)
        {
            var close = await socket.ReceiveUntilAsync(m => m.Contains("Connection closed with an error", StringComparison.Ordinal));
            _ = close; // a close message, or the socket closed
        }
        else
        {
            var completion = await socket.ReceiveUntilAsync(m => m.Length > 2 && m.Contains('\u0003'));
            Assert.NotNull(completion);
            // [4, {}, "2", "StreamEvents", [nil], []]: answered with missing_request, so the connection goes on.
            await AssertConnectionGoesOnAsync(socket, Frame([0x96, 0x04, 0x80, 0xa1, 0x32, 0xac, .. "StreamEvents"u8, 0x91, 0xc0, 0x90]), binary: true);
        }
        await AssertHealthyStreamsReceiveAsync();
    }

    // A message type the hub does not know: SignalR's protocols ignore it (forward compatibility),
    // and without IgnoredMessageSkippingProtocol the connection handler parsed that frame again on
    // every read and answered nothing more (dotnet/aspnetcore#69285): the connection hung, silent.
    public static TheoryData<string, bool> UnknownMessageTypes => new()
    {
        { "json", false }, { "json", true }, { "messagepack", false }, { "messagepack", true },
    };

    [Theory]
    [MemberData(nameof(UnknownMessageTypes))]
    public async Task A_message_of_a_type_the_hub_does_not_know_is_skipped_and_the_connection_goes_on(string protocol, bool sameRead)
    {
        await using var socket = await RawHubSocket.ConnectAsync(_hub.BaseAddress, protocol);
        var binary = protocol == "messagepack";
        object unknown = binary ? Frame([0x91, 0x63]) : """{"type":99}""" + RawHubSocket.RecordSeparator; // [99]
        object call = binary
            ? Frame([0x96, 0x04, 0x80, 0xa1, 0x32, 0xac, .. "StreamEvents"u8, 0x91, 0xc0, 0x90])
            : """{"type":4,"invocationId":"next","target":"StreamEvents","arguments":[null]}""" + RawHubSocket.RecordSeparator;
        if (sameRead)
        {
            // Both frames in one WebSocket message: the hub reads them at once.
            if (binary) await AssertConnectionGoesOnAsync(socket, (byte[])[.. (byte[])unknown, .. (byte[])call], binary);
            else await AssertConnectionGoesOnAsync(socket, (string)unknown + (string)call, binary);
        }
        else
        {
            // The unknown frame alone, then the call in a later read.
            if (binary) await socket.SendBinaryAsync((byte[])unknown);
            else await socket.SendTextAsync((string)unknown);
            await AssertConnectionGoesOnAsync(socket, call, binary);
            await AssertConnectionGoesOnAsync(socket, call, binary); // and the next one too
        }
        await AssertHealthyStreamsReceiveAsync();
    }

    [Theory]
    [InlineData("json")]
    [InlineData("messagepack")]
    public async Task Unknown_messages_larger_together_than_the_size_limit_are_skipped_one_by_one(string protocol)
    {
        // Two 20 KB frames of an unknown type, each in a read of its own, then a call: a handler that
        // kept the skipped frames in its 32 KiB window closed the connection as "message too large".
        await using var socket = await RawHubSocket.ConnectAsync(_hub.BaseAddress, protocol);
        var binary = protocol == "messagepack";
        for (var i = 0; i < 2; i++)
        {
            if (binary) await socket.SendBinaryAsync(Frame([0x92, 0x63, 0xc5, 0x4e, 0x20, .. new byte[20_000]])); // [99, bin of 20,000]
            else await socket.SendTextAsync($$"""{"type":99,"pad":"{{new string('x', 20_000)}}"}""" + RawHubSocket.RecordSeparator);
        }
        object call = binary
            ? Frame([0x96, 0x04, 0x80, 0xa1, 0x32, 0xac, .. "StreamEvents"u8, 0x91, 0xc0, 0x90])
            : """{"type":4,"invocationId":"next","target":"StreamEvents","arguments":[null]}""" + RawHubSocket.RecordSeparator;
        await AssertConnectionGoesOnAsync(socket, call, binary);
    }

    private static async Task AssertConnectionGoesOnAsync(RawHubSocket socket, object frame, bool binary)
    {
        if (binary) await socket.SendBinaryAsync((byte[])frame);
        else await socket.SendTextAsync((string)frame);
        var answer = await socket.ReceiveUntilAsync(m => m.Contains("missing_request", StringComparison.Ordinal));
        Assert.NotNull(answer);
    }

    /// <summary>A MessagePack hub frame: the body behind its VarInt length.</summary>
    private static byte[] Frame(byte[] body)
    {
        var prefix = new List<byte>();
        var length = body.Length;
        do
        {
            var b = (byte)(length & 0x7f);
            length >>= 7;
            prefix.Add(length > 0 ? (byte)(b | 0x80) : b);
        } while (length > 0);
        return [.. prefix, .. body];
    }

    private static string Truncate(string? s) => s is null ? "(none)" : s.Length > 120 ? s[..120] + $"…({s.Length})" : s;
}
