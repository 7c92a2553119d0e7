import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrPayload } from "./PrPayload.js";

/** A PR's state, CI, review decision or mergeability changed. */
export type PrUpdatedEvent = ChangeEventBase<"pr_updated", PrPayload>;
