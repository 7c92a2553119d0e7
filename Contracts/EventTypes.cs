namespace EventHub.Contracts;

/// <summary>
/// The event types the change log writes today, and the family prefixes a request may use. The one
/// description of each type's payload is <c>Contracts/event-types.json</c> (a test checks this list
/// against it).
/// The transport passes any type through: new families (for example <c>tracker_*</c>) may arrive
/// before a client knows them.
/// </summary>
public static class EventTypes
{
    /// <summary>A session was created. Payload: <c>id</c>, <c>activity</c>, <c>isTerminated</c>.</summary>
    public const string SessionCreated = "session_created";

    /// <summary>
    /// A session's activity, termination or preview changed, or it sent its first signal. Payload as
    /// <see cref="SessionCreated"/> plus <c>previewUrl</c> (string or null) and <c>previewRevision</c>.
    /// </summary>
    public const string SessionUpdated = "session_updated";

    /// <summary>A PR was recorded. Payload: <c>url</c>, <c>session</c>, <c>state</c>, <c>ci</c>, <c>review</c>, <c>mergeability</c>.</summary>
    public const string PrCreated = "pr_created";

    /// <summary>A PR's state, CI, review or mergeability changed. Payload as <see cref="PrCreated"/>.</summary>
    public const string PrUpdated = "pr_updated";

    /// <summary>A PR moved to another session (the event goes to the new session's project). Payload: <c>url</c>, <c>fromSession</c>, <c>toSession</c>.</summary>
    public const string PrSessionChanged = "pr_session_changed";

    /// <summary>A check was recorded or its status changed. Payload: <c>pr</c>, <c>name</c>, <c>commit</c>, <c>status</c>.</summary>
    public const string PrCheckRecorded = "pr_check_recorded";

    /// <summary>A review thread was added. Payload: <c>pr</c>, <c>thread</c>, <c>path</c>, <c>line</c>, <c>resolved</c>, <c>isBot</c>.</summary>
    public const string PrReviewThreadAdded = "pr_review_thread_added";

    /// <summary>A review thread's resolved flag flipped. Payload: <c>pr</c>, <c>thread</c>, <c>path</c>, <c>line</c>, <c>resolved</c>.</summary>
    public const string PrReviewThreadResolved = "pr_review_thread_resolved";

    /// <summary>Every <c>session_*</c> type, as a request filter.</summary>
    public const string SessionFamily = "session_*";

    /// <summary>Every <c>pr_*</c> type, as a request filter.</summary>
    public const string PrFamily = "pr_*";

    /// <summary>Every <c>pr_review_thread_*</c> type, as a request filter.</summary>
    public const string PrReviewThreadFamily = "pr_review_thread_*";

    /// <summary>The eight types above, in the order of the contract.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        SessionCreated, SessionUpdated, PrCreated, PrUpdated, PrSessionChanged,
        PrCheckRecorded, PrReviewThreadAdded, PrReviewThreadResolved,
    ];
}
