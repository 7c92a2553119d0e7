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
/// <remarks>
/// Its <see cref="ChangeEvent.Payload"/> is left unset: nothing reads it (both protocols write the
/// encoded forms), and a parsed copy of every payload would live as long as the event, i.e. as
/// long as the recent-events window keeps it. The MessagePack form parses the payload while it is
/// built, once per event.
/// </remarks>
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

    private byte[] EncodeMessagePack()
    {
        using var payload = JsonDocument.Parse(Source.Payload);
        return MessagePackSerializer.Serialize<ChangeEvent>(new ChangeEvent
        {
            Seq = Seq, ProjectId = ProjectId, SessionId = SessionId, Type = Type,
            Payload = payload.RootElement, CreatedAt = CreatedAt, Offset = Offset,
        }, EventHubMessagePack.Options);
    }
}
