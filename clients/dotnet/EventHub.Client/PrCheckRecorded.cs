using System.Text.Json.Serialization;
using EventHub.Client.Internal;
using EventHub.Contracts;

namespace EventHub.Client;

/// <summary>A CI check was recorded or its status changed (<c>pr_check_recorded</c>).</summary>
public sealed class PrCheckRecorded : TypedChangeEvent
{
    /// <summary>For object initializers (tests, fakes).</summary>
    public PrCheckRecorded()
    {
    }

    internal PrCheckRecorded(ChangeEvent source) : base(source)
    {
        Pr = PayloadReader.String(source.Payload, "pr");
        Name = PayloadReader.String(source.Payload, "name");
        Commit = PayloadReader.String(source.Payload, "commit");
        Status = PayloadReader.String(source.Payload, "status");
    }

    /// <summary>The pull request's URL (payload <c>pr</c>).</summary>
    [JsonIgnore]
    public string Pr { get; init; } = "";

    /// <summary>The check's name (payload <c>name</c>).</summary>
    [JsonIgnore]
    public string Name { get; init; } = "";

    /// <summary>The commit the check ran on (payload <c>commit</c>).</summary>
    [JsonIgnore]
    public string Commit { get; init; } = "";

    /// <summary><c>unknown</c>, <c>queued</c>, <c>in_progress</c>, <c>passed</c>, <c>failed</c>, <c>skipped</c> or <c>cancelled</c> (payload <c>status</c>).</summary>
    [JsonIgnore]
    public string Status { get; init; } = "";
}
