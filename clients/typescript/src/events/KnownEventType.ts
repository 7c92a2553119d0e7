/**
 * The eight event types the change log writes today, in the order of the CDC contract.
 * The hub passes any other type through untouched; this client delivers those as
 * {@link UnknownEvent}.
 */
export const KNOWN_EVENT_TYPES = [
  "session_created",
  "session_updated",
  "pr_created",
  "pr_updated",
  "pr_session_changed",
  "pr_check_recorded",
  "pr_review_thread_added",
  "pr_review_thread_resolved",
] as const;

/** One of {@link KNOWN_EVENT_TYPES}. */
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];
