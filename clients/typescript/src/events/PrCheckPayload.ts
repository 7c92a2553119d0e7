import type { PrCheckRecordedPayload } from "./eventTypes.generated.js";

/** Payload of `pr_check_recorded`. Generated from Contracts/event-types.json. */
export type PrCheckPayload = PrCheckRecordedPayload;
