using System.Text.Json;
using EventHub.Contracts;
using EventHub.Contracts.MessagePack;
using EventHub.Log;
using MessagePack;

namespace EventHub.SignalR.Internal;

/// <summary>
/// The <see cref="ChangeEvent"/> of one <see cref="LogEvent"/>, created once and sent to every
/// subscriber. The protocols write its pre-encoded forms raw (<see cref="SharedChangeEventJsonConverter"/>,
/// <see cref="SharedChangeEventFormatter"/>), so a subscriber costs a copy, not a serialization.
/// </summary>
internal sealed class SharedChangeEvent : ChangeEvent
{
    private byte[]? _messagePack;

    public SharedChangeEvent(LogEvent source)
    {
        Source = source;
        Seq = source.Seq;
        ProjectId = source.ProjectId;
        SessionId = source.SessionId;
        Type = source.Type;
        Payload = JsonSerializer.Deserialize<JsonElement>(source.Payload.Span);
        CreatedAt = source.CreatedAt.ToUniversalTime();
        Offset = source.Offset;
    }

    public LogEvent Source { get; }

    /// <summary>The wire JSON, shared with the SSE endpoint's encoding of the same event.</summary>
    public ReadOnlyMemory<byte> Json => Source.Json;

    /// <summary>
    /// The MessagePack map, computed on first use. Benign race: two threads may both compute it;
    /// the results are equal and either may win.
    /// </summary>
    public ReadOnlyMemory<byte> MessagePack => _messagePack ??= EncodeMessagePack();

    private byte[] EncodeMessagePack() =>
        MessagePackSerializer.Serialize<ChangeEvent>(new ChangeEvent
        {
            Seq = Seq, ProjectId = ProjectId, SessionId = SessionId, Type = Type,
            Payload = Payload, CreatedAt = CreatedAt, Offset = Offset,
        }, EventHubMessagePack.Options);
}
