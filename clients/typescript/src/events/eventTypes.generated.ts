// Generated from Contracts/event-types.json by scripts/generate-event-types.mjs: do not edit.
// Regenerate with `npm run generate:events -w @eventhub/client`; test/unit/eventTypesGenerated.test.ts
// fails when this file is stale.

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

/** Payload of `session_created`: a session was created. */
export interface SessionCreatedPayload {
  /** The session id, `{project}-{num}`. */
  readonly id: string;
  /** The session's activity state. */
  readonly activity: SessionActivity;
  /** Whether the session has been terminated. */
  readonly isTerminated: boolean;
}

/** Payload of `session_updated`: a session's activity, termination or preview changed, or it sent its first signal. */
export interface SessionUpdatedPayload {
  /** The session id, `{project}-{num}`. */
  readonly id: string;
  /** The session's activity state. */
  readonly activity: SessionActivity;
  /** Whether the session has been terminated. */
  readonly isTerminated: boolean;
  /** The session's preview URL, or null. */
  readonly previewUrl: string | null;
  /** The preview's revision (0 until there is one). */
  readonly previewRevision: number;
}

/** Payload of `pr_created`: a PR was recorded. */
export interface PrCreatedPayload {
  /** The PR's URL, its identity. */
  readonly url: string;
  /** The session the PR belongs to. */
  readonly session: string;
  /** The PR's state. */
  readonly state: PrState;
  /** The PR's CI state. */
  readonly ci: CiState;
  /** The PR's review decision. */
  readonly review: ReviewDecision;
  /** Whether the PR can be merged. */
  readonly mergeability: Mergeability;
}

/** Payload of `pr_updated`: a PR's state, CI, review decision or mergeability changed. */
export interface PrUpdatedPayload {
  /** The PR's URL, its identity. */
  readonly url: string;
  /** The session the PR belongs to. */
  readonly session: string;
  /** The PR's state. */
  readonly state: PrState;
  /** The PR's CI state. */
  readonly ci: CiState;
  /** The PR's review decision. */
  readonly review: ReviewDecision;
  /** Whether the PR can be merged. */
  readonly mergeability: Mergeability;
}

/** Payload of `pr_session_changed`: a PR moved to another session (the event goes to the new session's project). */
export interface PrSessionChangedPayload {
  /** The PR's URL. */
  readonly url: string;
  /** The session the PR belonged to. */
  readonly fromSession: string;
  /** The session the PR belongs to now. */
  readonly toSession: string;
}

/** Payload of `pr_check_recorded`: a check was recorded, or its status changed. */
export interface PrCheckRecordedPayload {
  /** The URL of the PR the check ran on. */
  readonly pr: string;
  /** The check's name. */
  readonly name: string;
  /** The commit the check ran on. */
  readonly commit: string;
  /** The check's status. */
  readonly status: CheckStatus;
}

/** Payload of `pr_review_thread_added`: a review thread was opened on a PR. */
export interface PrReviewThreadAddedPayload {
  /** The URL of the PR the thread is on. */
  readonly pr: string;
  /** The thread's id. */
  readonly thread: string;
  /** The file the thread is on, if any. */
  readonly path: string | null;
  /** The line the thread is on, if any. */
  readonly line: number | null;
  /** Whether the thread is resolved. */
  readonly resolved: boolean;
  /** Whether a bot opened the thread. */
  readonly isBot: boolean;
}

/** Payload of `pr_review_thread_resolved`: a review thread's resolved flag flipped. */
export interface PrReviewThreadResolvedPayload {
  /** The URL of the PR the thread is on. */
  readonly pr: string;
  /** The thread's id. */
  readonly thread: string;
  /** The file the thread is on, if any. */
  readonly path: string | null;
  /** The line the thread is on, if any. */
  readonly line: number | null;
  /** Whether the thread is resolved. */
  readonly resolved: boolean;
}

/** The payload of each known event type. */
export interface EventPayloads {
  readonly session_created: SessionCreatedPayload;
  readonly session_updated: SessionUpdatedPayload;
  readonly pr_created: PrCreatedPayload;
  readonly pr_updated: PrUpdatedPayload;
  readonly pr_session_changed: PrSessionChangedPayload;
  readonly pr_check_recorded: PrCheckRecordedPayload;
  readonly pr_review_thread_added: PrReviewThreadAddedPayload;
  readonly pr_review_thread_resolved: PrReviewThreadResolvedPayload;
}

/**
 * The event types the change log writes today, in the order of the CDC contract. The hub passes
 * any other type through untouched; this client delivers those as `UnknownEvent`s.
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
