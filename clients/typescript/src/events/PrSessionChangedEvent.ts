import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrSessionChangedPayload } from "./PrSessionChangedPayload.js";

/** A PR moved to another session; the event goes to the new session's project. */
export type PrSessionChangedEvent = ChangeEventBase<"pr_session_changed", PrSessionChangedPayload>;
