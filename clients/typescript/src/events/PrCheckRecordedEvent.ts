import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrCheckPayload } from "./PrCheckPayload.js";

/** A check was recorded, or its status changed. */
export type PrCheckRecordedEvent = ChangeEventBase<"pr_check_recorded", PrCheckPayload>;
