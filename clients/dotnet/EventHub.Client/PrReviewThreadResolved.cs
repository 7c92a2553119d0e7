using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A review thread's resolved flag flipped (<c>pr_review_thread_resolved</c>); <see cref="Resolved"/> says which way.</summary>
public sealed class PrReviewThreadResolved : TypedChangeEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrReviewThreadResolved()
    {
    }

    internal PrReviewThreadResolved(ChangeEvent source) : base(source)
    {
        Pr = PayloadReader.String(source.Payload, "pr");
        Thread = PayloadReader.String(source.Payload, "thread");
        Path = PayloadReader.NullableString(source.Payload, "path");
        Line = PayloadReader.Int(source.Payload, "line");
        Resolved = PayloadReader.Bool(source.Payload, "resolved");
    }

    /// <summary>The pull request's URL (payload <c>pr</c>).</summary>
    [JsonIgnore]
    public string Pr { get; init; } = "";

    /// <summary>The thread's id (payload <c>thread</c>).</summary>
    [JsonIgnore]
    public string Thread { get; init; } = "";

    /// <summary>The file the thread is on, or null (payload <c>path</c>).</summary>
    [JsonIgnore]
    public string? Path { get; init; }

    /// <summary>The line the thread is on, or null (payload <c>line</c>).</summary>
    [JsonIgnore]
    public int? Line { get; init; }

    /// <summary>True when the thread was resolved, false when it was reopened (payload <c>resolved</c>).</summary>
    [JsonIgnore]
    public bool Resolved { get; init; }
}
