import type { SessionActivity } from "./PayloadValues.js";

/** Payload of `session_created` and `session_updated`. */
export interface SessionPayload {
  /** The session id, `{project}-{num}`. */
  readonly id: string;
  /** The session's activity state. */
  readonly activity: SessionActivity;
  /** Whether the session has been terminated. */
  readonly isTerminated: boolean;
}
