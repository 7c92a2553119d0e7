using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A session's state: the payload of <see cref="SessionCreated"/> and <see cref="SessionUpdated"/>.</summary>
public abstract class SessionEvent : TypedChangeEvent
{
    /// <summary>For object initializers.</summary>
    protected SessionEvent()
    {
    }

    private protected SessionEvent(ChangeEvent source) : base(source)
    {
        Id = PayloadReader.String(source.Payload, "id");
        Activity = PayloadReader.String(source.Payload, "activity");
        IsTerminated = PayloadReader.Bool(source.Payload, "isTerminated");
    }

    /// <summary>The session id, <c>{project}-{num}</c> (payload <c>id</c>).</summary>
    [JsonIgnore]
    public string Id { get; init; } = "";

    /// <summary>The activity: <c>active</c>, <c>idle</c>, <c>waiting_input</c>, <c>blocked</c> or <c>exited</c> (payload <c>activity</c>).</summary>
    [JsonIgnore]
    public string Activity { get; init; } = "";

    /// <summary>Whether the session was terminated (payload <c>isTerminated</c>).</summary>
    [JsonIgnore]
    public bool IsTerminated { get; init; }
}
