using System.Runtime.Serialization;
using System.Text.Json.Serialization;

namespace EventHub.Contracts;

/// <summary>
/// A notice about one project, sent to every connection that currently streams that project
/// (<see cref="IEventHubClient.ProjectNotice"/>). Connections streaming all projects do not get it.
/// </summary>
[DataContract]
public sealed class ProjectNotice
{
    /// <summary>The project the notice is about.</summary>
    [DataMember(Name = "projectId")]
    [JsonPropertyName("projectId")]
    public string ProjectId { get; init; } = "";

    /// <summary>What happened, a stable machine-readable word (for example a reset of the project's stream).</summary>
    [DataMember(Name = "kind")]
    [JsonPropertyName("kind")]
    public string Kind { get; init; } = "";

    /// <summary>A human-readable explanation, and what the client should do.</summary>
    [DataMember(Name = "message")]
    [JsonPropertyName("message")]
    public string Message { get; init; } = "";

    /// <summary>An offset the notice refers to (for example where to resume from), or null.</summary>
    [DataMember(Name = "offset")]
    [JsonPropertyName("offset")]
    public string? Offset { get; init; }
}
