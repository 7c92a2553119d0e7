using EventHub.Contracts;

namespace EventHub.Streaming;

/// <summary>A stream request that cannot be served; <see cref="Code"/> is stable, the message says what to fix.</summary>
public sealed class StreamRequestException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>The error codes of <see cref="StreamRequestException"/>, as the contract spells them (<see cref="ErrorCodes"/>).</summary>
public static class StreamErrorCodes
{
    public const string InvalidOffset = ErrorCodes.InvalidOffset;
    public const string OffsetOutOfRange = ErrorCodes.OffsetOutOfRange;
    public const string InvalidProject = ErrorCodes.InvalidProject;
    public const string InvalidType = ErrorCodes.InvalidType;
    public const string TooManyProjects = ErrorCodes.TooManyProjects;
    public const string TooManyTypes = ErrorCodes.TooManyTypes;
    public const string MissingRequest = ErrorCodes.MissingRequest;
}
