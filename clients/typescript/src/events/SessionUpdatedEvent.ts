import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { SessionPayload } from "./SessionPayload.js";

/** A session's activity or termination changed. */
export type SessionUpdatedEvent = ChangeEventBase<"session_updated", SessionPayload>;
