using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A review thread was opened on a pull request (<c>pr_review_thread_added</c>).</summary>
public sealed class PrReviewThreadAdded : TypedChangeEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrReviewThreadAdded()
    {
    }

    internal PrReviewThreadAdded(ChangeEvent source) : base(source)
    {
        Pr = PayloadReader.String(source.Payload, "pr");
        Thread = PayloadReader.String(source.Payload, "thread");
        Path = PayloadReader.NullableString(source.Payload, "path");
        Line = PayloadReader.Int(source.Payload, "line");
        Resolved = PayloadReader.Bool(source.Payload, "resolved");
        IsBot = PayloadReader.Bool(source.Payload, "isBot");
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

    /// <summary>Whether the thread is resolved (payload <c>resolved</c>).</summary>
    [JsonIgnore]
    public bool Resolved { get; init; }

    /// <summary>Whether a bot opened the thread (payload <c>isBot</c>).</summary>
    [JsonIgnore]
    public bool IsBot { get; init; }
}
