// The value sets of the payload fields, as the database's CHECK constraints define them.
// They are small aliases of one concept ("a value the trigger copies from a column"), so they
// share this file rather than take one each.

/** `sessions.activity_state`. */
export type SessionActivity = "active" | "idle" | "waiting_input" | "blocked" | "exited";

/** `pr.pr_state`. */
export type PrState = "draft" | "open" | "merged" | "closed";

/** `pr.ci_state`. */
export type CiState = "unknown" | "pending" | "passing" | "failing";

/** `pr.review_decision`. */
export type ReviewDecision = "none" | "approved" | "changes_requested" | "review_required";

/** `pr.mergeability`. */
export type Mergeability = "unknown" | "mergeable" | "conflicting" | "blocked" | "unstable";

/** `pr_checks.status`. */
export type CheckStatus = "unknown" | "queued" | "in_progress" | "passed" | "failed" | "skipped" | "cancelled";
