using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>
/// A session's activity, termination or preview changed, or it sent its first signal
/// (<c>session_updated</c>). Besides the fields of every session event it carries the preview.
/// </summary>
public sealed class SessionUpdated : SessionEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public SessionUpdated()
    {
    }

    internal SessionUpdated(ChangeEvent source) : base(source)
    {
        PreviewUrl = PayloadReader.NullableString(source.Payload, "previewUrl");
        PreviewRevision = PayloadReader.Int(source.Payload, "previewRevision") ?? 0;
    }

    /// <summary>The session's preview URL, or null while it has none (payload <c>previewUrl</c>).</summary>
    [JsonIgnore]
    public string? PreviewUrl { get; init; }

    /// <summary>The preview's revision, 0 until there is one (payload <c>previewRevision</c>).</summary>
    [JsonIgnore]
    public int PreviewRevision { get; init; }
}
