/**
 * The family of an event type, as the viewer colours it: `session_*`, PRs (`pr_created`,
 * `pr_updated`, `pr_session_changed`), checks (`pr_check_*`), review threads
 * (`pr_review_thread_*`), and `other` for families this client does not know.
 */
export type EventFamily = "session" | "pr" | "check" | "review_thread" | "other";
