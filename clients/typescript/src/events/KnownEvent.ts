import type { PrCheckRecordedEvent } from "./PrCheckRecordedEvent.js";
import type { PrCreatedEvent } from "./PrCreatedEvent.js";
import type { PrReviewThreadAddedEvent } from "./PrReviewThreadAddedEvent.js";
import type { PrReviewThreadResolvedEvent } from "./PrReviewThreadResolvedEvent.js";
import type { PrSessionChangedEvent } from "./PrSessionChangedEvent.js";
import type { PrUpdatedEvent } from "./PrUpdatedEvent.js";
import type { SessionCreatedEvent } from "./SessionCreatedEvent.js";
import type { SessionUpdatedEvent } from "./SessionUpdatedEvent.js";

/**
 * The eight event types of the CDC contract: a union discriminated by `type`. Check an
 * {@link EventHubEvent} with {@link isKnownEvent} first, then `switch (event.type)` narrows the
 * payload.
 */
export type KnownEvent =
  | SessionCreatedEvent
  | SessionUpdatedEvent
  | PrCreatedEvent
  | PrUpdatedEvent
  | PrSessionChangedEvent
  | PrCheckRecordedEvent
  | PrReviewThreadAddedEvent
  | PrReviewThreadResolvedEvent;
