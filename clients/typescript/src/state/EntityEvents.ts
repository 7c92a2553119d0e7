import type { PrCheckRecordedEvent } from "../events/PrCheckRecordedEvent.js";
import type { PrCreatedEvent } from "../events/PrCreatedEvent.js";
import type { PrReviewThreadAddedEvent } from "../events/PrReviewThreadAddedEvent.js";
import type { PrReviewThreadResolvedEvent } from "../events/PrReviewThreadResolvedEvent.js";
import type { PrSessionChangedEvent } from "../events/PrSessionChangedEvent.js";
import type { PrUpdatedEvent } from "../events/PrUpdatedEvent.js";
import type { SessionCreatedEvent } from "../events/SessionCreatedEvent.js";
import type { SessionUpdatedEvent } from "../events/SessionUpdatedEvent.js";

/** The latest event of a session (kind `session`, keyed by `id`). */
export type SessionEntityEvent = SessionCreatedEvent | SessionUpdatedEvent;
/**
 * The latest event of a PR (kind `pr`, keyed by `url`). A `pr_session_changed` carries only the
 * sessions (`fromSession`, `toSession`), not the PR's state, CI or review: when it is the latest,
 * those are not in the state until the next `pr_updated`.
 */
export type PrEntityEvent = PrCreatedEvent | PrUpdatedEvent | PrSessionChangedEvent;
/** The latest event of a check (kind `check`, keyed by `(pr, name, commit)`). */
export type CheckEntityEvent = PrCheckRecordedEvent;
/** The latest event of a review thread (kind `thread`, keyed by `(pr, thread)`); `payload.resolved` says whether it is open. */
export type ThreadEntityEvent = PrReviewThreadAddedEvent | PrReviewThreadResolvedEvent;
