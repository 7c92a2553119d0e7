import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { SessionUpdatedPayload } from "./eventTypes.generated.js";

/** A session's activity, termination or preview changed, or it sent its first signal. */
export type SessionUpdatedEvent = ChangeEventBase<"session_updated", SessionUpdatedPayload>;
