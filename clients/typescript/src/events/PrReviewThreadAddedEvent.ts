import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrReviewThreadAddedPayload } from "./PrReviewThreadAddedPayload.js";

/** A review thread was added. */
export type PrReviewThreadAddedEvent = ChangeEventBase<"pr_review_thread_added", PrReviewThreadAddedPayload>;
