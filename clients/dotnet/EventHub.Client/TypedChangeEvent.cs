using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>
/// The base of the typed events: a <see cref="ChangeEvent"/> whose payload fields are also read into
/// properties. <see cref="ChangeEvent.Payload"/> stays as it arrived. Typed events derive from the
/// contract's class (not a record of their own) so that one stream of <see cref="ChangeEvent"/>
/// carries both known and unknown types, and a <c>switch</c> on the event picks the typed ones.
/// </summary>
public abstract class TypedChangeEvent : ChangeEvent
{
    /// <summary>For object initializers (tests, fakes): set the <see cref="ChangeEvent"/> fields there too.</summary>
    protected TypedChangeEvent()
    {
    }

    /// <summary>Copies the envelope of <paramref name="source"/> (ids, type, payload, time, offset).</summary>
    private protected TypedChangeEvent(ChangeEvent source)
    {
        Seq = source.Seq;
        ProjectId = source.ProjectId;
        SessionId = source.SessionId;
        Type = source.Type;
        Payload = source.Payload;
        CreatedAt = source.CreatedAt;
        Offset = source.Offset;
    }
}
