using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A pull request moved to another session (<c>pr_session_changed</c>); the event belongs to the new session's project.</summary>
public sealed class PrSessionChanged : TypedChangeEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrSessionChanged()
    {
    }

    internal PrSessionChanged(ChangeEvent source) : base(source)
    {
        Url = PayloadReader.String(source.Payload, "url");
        FromSession = PayloadReader.String(source.Payload, "fromSession");
        ToSession = PayloadReader.String(source.Payload, "toSession");
    }

    /// <summary>The pull request's URL (payload <c>url</c>).</summary>
    [JsonIgnore]
    public string Url { get; init; } = "";

    /// <summary>The session it left (payload <c>fromSession</c>).</summary>
    [JsonIgnore]
    public string FromSession { get; init; } = "";

    /// <summary>The session it joined (payload <c>toSession</c>).</summary>
    [JsonIgnore]
    public string ToSession { get; init; } = "";
}
