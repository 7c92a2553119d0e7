namespace EventHub.Client;

/// <summary>
/// The entity kinds the hub keys by itself (its table <c>eventhub_entity_key</c>); a hub may key
/// further event types as kinds of their own in its configuration (<c>State:EntityKeys</c>).
/// </summary>
public static class LiveEntityKinds
{
    /// <summary>A session, keyed by <c>[id]</c> (<c>session_created</c>, <c>session_updated</c>).</summary>
    public const string Session = "session";

    /// <summary>A pull request, keyed by <c>[url]</c> (<c>pr_created</c>, <c>pr_updated</c>, <c>pr_session_changed</c>).</summary>
    public const string Pr = "pr";

    /// <summary>A CI check, keyed by <c>[pr, name, commit]</c> (<c>pr_check_recorded</c>).</summary>
    public const string Check = "check";

    /// <summary>A review thread, keyed by <c>[pr, thread]</c> (<c>pr_review_thread_added</c>, <c>pr_review_thread_resolved</c>).</summary>
    public const string Thread = "thread";
}
