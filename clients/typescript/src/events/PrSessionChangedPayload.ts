/** Payload of `pr_session_changed`: a PR moved to another session. */
export interface PrSessionChangedPayload {
  /** The PR's URL. */
  readonly url: string;
  /** The session the PR belonged to. */
  readonly fromSession: string;
  /** The session the PR belongs to now (its project is the event's project). */
  readonly toSession: string;
}
