using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A pull request's state: the payload of <see cref="PrCreated"/> and <see cref="PrUpdated"/>.</summary>
public abstract class PrStateEvent : TypedChangeEvent
{
    /// <summary>For object initializers.</summary>
    protected PrStateEvent()
    {
    }

    private protected PrStateEvent(ChangeEvent source) : base(source)
    {
        Url = PayloadReader.String(source.Payload, "url");
        Session = PayloadReader.String(source.Payload, "session");
        State = PayloadReader.String(source.Payload, "state");
        Ci = PayloadReader.String(source.Payload, "ci");
        Review = PayloadReader.String(source.Payload, "review");
        Mergeability = PayloadReader.String(source.Payload, "mergeability");
    }

    /// <summary>The pull request's URL, its identity (payload <c>url</c>).</summary>
    [JsonIgnore]
    public string Url { get; init; } = "";

    /// <summary>The session that owns the pull request (payload <c>session</c>).</summary>
    [JsonIgnore]
    public string Session { get; init; } = "";

    /// <summary><c>draft</c>, <c>open</c>, <c>merged</c> or <c>closed</c> (payload <c>state</c>).</summary>
    [JsonIgnore]
    public string State { get; init; } = "";

    /// <summary><c>unknown</c>, <c>pending</c>, <c>passing</c> or <c>failing</c> (payload <c>ci</c>).</summary>
    [JsonIgnore]
    public string Ci { get; init; } = "";

    /// <summary><c>none</c>, <c>approved</c>, <c>changes_requested</c> or <c>review_required</c> (payload <c>review</c>).</summary>
    [JsonIgnore]
    public string Review { get; init; } = "";

    /// <summary><c>unknown</c>, <c>mergeable</c>, <c>conflicting</c>, <c>blocked</c> or <c>unstable</c> (payload <c>mergeability</c>).</summary>
    [JsonIgnore]
    public string Mergeability { get; init; } = "";
}
