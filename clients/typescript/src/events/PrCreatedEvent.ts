import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrPayload } from "./PrPayload.js";

/** A PR was recorded. */
export type PrCreatedEvent = ChangeEventBase<"pr_created", PrPayload>;
