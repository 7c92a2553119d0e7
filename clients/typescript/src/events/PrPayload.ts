import type { PrCreatedPayload } from "./eventTypes.generated.js";

/** Payload of `pr_created` and `pr_updated` (the same fields). Generated from Contracts/event-types.json. */
export type PrPayload = PrCreatedPayload;
