namespace EventHub.Contracts;

/// <summary>The values of <see cref="ProjectNotice.Kind"/>.</summary>
public static class ProjectNoticeKinds
{
    /// <summary>
    /// The stream cannot continue from the client's offset without a gap (the offset belongs to
    /// another log, or retention pruned events after it). Refetch state, then continue from
    /// <see cref="ProjectNotice.Offset"/>.
    /// </summary>
    public const string Reset = "reset";
}
