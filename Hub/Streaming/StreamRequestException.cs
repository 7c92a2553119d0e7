namespace EventHub.Streaming;

/// <summary>A stream request that cannot be served; <see cref="Code"/> is stable, the message says what to fix.</summary>
public sealed class StreamRequestException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The error codes of <see cref="StreamRequestException"/>.</summary>
public static class StreamErrorCodes
{
    public const string InvalidOffset = "invalid_offset";
    public const string OffsetOutOfRange = "offset_out_of_range";
    public const string InvalidProject = "invalid_project";
    public const string InvalidType = "invalid_type";
    public const string TooManyProjects = "too_many_projects";
    public const string TooManyTypes = "too_many_types";
    public const string MissingRequest = "missing_request";
}
