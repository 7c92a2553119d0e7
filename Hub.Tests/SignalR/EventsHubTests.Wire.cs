using System.Buffers;
using System.Text;
using System.Text.Json;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using EventHub.Log;
using EventHub.SignalR.Internal;
using MessagePack;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.DependencyInjection;

namespace EventHub.Tests.SignalR;

public sealed partial class EventsHubTests
{
    private static readonly LogEvent SampleEvent = new(new LogPosition(7, 1000, 42), "0123abcdef-7-16", 42, "ao", null, "pr_review_thread_added",
        """{"pr":"https://x/pull/1","line":42,"resolved":false,"nested":{"list":[1,2.5,"three",null]}}""",
        DateTimeOffset.Parse("2026-06-05T12:00:00.123456+02:00"));

    [Fact]
    public void Over_MessagePack_a_request_is_read_with_its_keys_in_any_case_as_over_JSON()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        writer.WriteMapHeader(4);
        writer.Write("Projects");
        writer.WriteArrayHeader(1);
        writer.Write("ao");
        writer.Write("TYPES");
        writer.WriteArrayHeader(1);
        writer.Write("pr_*");
        writer.Write("After");
        writer.Write("0");
        writer.Write("SignalItems");
        writer.Write(true);
        writer.Flush();

        var request = MessagePackSerializer.Deserialize<StreamEventsRequest>(buffer.WrittenMemory, EventHubMessagePack.Options)!;

        Assert.Equal(["ao"], request.Projects!);
        Assert.Equal(["pr_*"], request.Types!);
        Assert.Equal(("0", true), (request.After, request.SignalItems));
    }

    [Fact]
    public void Over_MessagePack_the_hub_writes_the_payload_as_a_map_and_createdAt_as_a_UTC_timestamp()
    {
        var protocol = HubProtocol("messagepack");
        var item = new ChangeEventCache().Get(SampleEvent);
        var buffer = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(new StreamItemMessage("1", item), buffer);

        // Find the item (the last element of the StreamItem array) after the length prefix.
        var bytes = buffer.WrittenMemory;
        var reader = new MessagePackReader(bytes[VarIntLength(bytes.Span)..]);
        var elements = reader.ReadArrayHeader();
        for (var i = 0; i < elements - 1; i++) reader.Skip();

        var fields = new Dictionary<string, MessagePackType>();
        var count = reader.ReadMapHeader();
        DateTime createdAt = default;
        for (var i = 0; i < count; i++)
        {
            var key = reader.ReadString()!;
            fields[key] = reader.NextMessagePackType;
            if (key == "createdAt")
            {
                Assert.Equal(ReservedMessagePackExtensionTypeCode.DateTime, reader.CreatePeekReader().ReadExtensionFormatHeader().TypeCode);
                createdAt = reader.ReadDateTime();
            }
            else reader.Skip();
        }
        Assert.Equal(["createdAt", "offset", "payload", "projectId", "seq", "sessionId", "type"], fields.Keys.Order());
        Assert.Equal(MessagePackType.Map, fields["payload"]);
        Assert.Equal(MessagePackType.Nil, fields["sessionId"]);
        Assert.Equal(MessagePackType.Integer, fields["seq"]);
        Assert.Equal(DateTimeKind.Utc, createdAt.Kind);
        Assert.Equal(new DateTime(2026, 6, 5, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234560), createdAt);

        // And the contracts' resolver reads it back as the same event.
        var read = MessagePackSerializer.Deserialize<ChangeEvent>(item.MessagePack, EventHubMessagePack.Options)!;
        Assert.Equal(TimeSpan.Zero, read.CreatedAt.Offset);
        Assert.Equal(SampleEvent.CreatedAt, read.CreatedAt);
        Assert.True(JsonElement.DeepEquals(JsonDocument.Parse(SampleEvent.Payload).RootElement, read.Payload));
        Assert.Equal(("ao", (string?)null, "pr_review_thread_added", 42L, "0123abcdef-7-16"), (read.ProjectId, read.SessionId, read.Type, read.Seq, read.Offset));
    }

    [Fact]
    public void Over_JSON_the_hub_writes_the_same_bytes_as_the_SSE_data_line()
    {
        var protocol = HubProtocol("json");
        var item = new ChangeEventCache().Get(SampleEvent);
        var buffer = new ArrayBufferWriter<byte>();
        protocol.WriteMessage(new StreamItemMessage("1", item), buffer);

        var text = Encoding.UTF8.GetString(buffer.WrittenSpan).TrimEnd('\u001e');
        var written = JsonDocument.Parse(text).RootElement.GetProperty("item");
        Assert.Equal(Encoding.UTF8.GetString(SampleEvent.Json.Span), written.GetRawText());
        Assert.Equal(JsonValueKind.Object, written.GetProperty("payload").ValueKind);
        Assert.Equal("2026-06-05T10:00:00.123456Z", written.GetProperty("createdAt").GetString());
    }

    [Fact]
    public void Each_logged_event_becomes_one_shared_ChangeEvent_whatever_the_number_of_subscribers()
    {
        var cache = fixture.Hub.Get<ChangeEventCache>();
        var first = cache.Get(SampleEvent);
        Assert.Same(first, cache.Get(SampleEvent));
        Assert.Equal(first.MessagePack.ToArray(), cache.Get(SampleEvent).MessagePack.ToArray());
        // No parsed copy of the payload lives with the event (the window keeps events for long):
        // both protocols write the encoded forms.
        Assert.Equal(JsonValueKind.Undefined, first.Payload.ValueKind);
    }

    private IHubProtocol HubProtocol(string name) =>
        fixture.Hub.Services.GetServices<IHubProtocol>().Single(p => p.Name == name);

    private static int VarIntLength(ReadOnlySpan<byte> bytes)
    {
        var i = 0;
        while ((bytes[i] & 0x80) != 0) i++;
        return i + 1;
    }
}
