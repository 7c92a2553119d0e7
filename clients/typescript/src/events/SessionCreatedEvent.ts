import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { SessionPayload } from "./SessionPayload.js";

/** A session was created. */
export type SessionCreatedEvent = ChangeEventBase<"session_created", SessionPayload>;
