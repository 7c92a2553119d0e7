import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { PrReviewThreadResolvedPayload } from "./PrReviewThreadResolvedPayload.js";

/** A review thread's resolved flag flipped. */
export type PrReviewThreadResolvedEvent = ChangeEventBase<"pr_review_thread_resolved", PrReviewThreadResolvedPayload>;
