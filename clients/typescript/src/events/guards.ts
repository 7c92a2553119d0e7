// Type guards over EventHubEvent. They read only `type`, so they are as cheap as a switch.
import type { EventFamily } from "./EventFamily.js";
import type { EventHubEvent } from "./EventHubEvent.js";
import type { EventOfType } from "./EventOfType.js";
import type { KnownEvent } from "./KnownEvent.js";
import { KNOWN_EVENT_TYPES, type KnownEventType } from "./KnownEventType.js";
import type { PrCheckRecordedEvent } from "./PrCheckRecordedEvent.js";
import type { PrCreatedEvent } from "./PrCreatedEvent.js";
import type { PrReviewThreadAddedEvent } from "./PrReviewThreadAddedEvent.js";
import type { PrReviewThreadResolvedEvent } from "./PrReviewThreadResolvedEvent.js";
import type { PrSessionChangedEvent } from "./PrSessionChangedEvent.js";
import type { PrUpdatedEvent } from "./PrUpdatedEvent.js";
import type { SessionCreatedEvent } from "./SessionCreatedEvent.js";
import type { SessionUpdatedEvent } from "./SessionUpdatedEvent.js";
import type { UnknownEvent } from "./UnknownEvent.js";

const known: ReadonlySet<string> = new Set(KNOWN_EVENT_TYPES);

/** Whether `type` is one of the eight {@link KNOWN_EVENT_TYPES}. */
export function isKnownEventType(type: string): type is KnownEventType {
  return known.has(type);
}

/** Whether the event has one of the eight known types; if so, `switch (event.type)` narrows it. */
export function isKnownEvent(event: EventHubEvent): event is KnownEvent {
  return known.has(event.type);
}

/** Whether the event's type is not one of the eight known types (a newer family). */
export function isUnknownEvent(event: EventHubEvent): event is UnknownEvent {
  return !known.has(event.type);
}

/** Whether the event has the given known type: `isEventType(e, "pr_updated")` narrows `e` to `PrUpdatedEvent`. */
export function isEventType<T extends KnownEventType>(event: EventHubEvent, type: T): event is EventOfType<T> {
  return event.type === type;
}

/** Whether the event is `session_created` or `session_updated`. */
export function isSessionEvent(event: EventHubEvent): event is SessionCreatedEvent | SessionUpdatedEvent {
  return event.type === "session_created" || event.type === "session_updated";
}

/** Whether the event is about a PR itself: `pr_created`, `pr_updated` or `pr_session_changed`. */
export function isPrEvent(event: EventHubEvent): event is PrCreatedEvent | PrUpdatedEvent | PrSessionChangedEvent {
  return event.type === "pr_created" || event.type === "pr_updated" || event.type === "pr_session_changed";
}

/** Whether the event is `pr_check_recorded`. */
export function isCheckEvent(event: EventHubEvent): event is PrCheckRecordedEvent {
  return event.type === "pr_check_recorded";
}

/** Whether the event is `pr_review_thread_added` or `pr_review_thread_resolved`. */
export function isReviewThreadEvent(event: EventHubEvent): event is PrReviewThreadAddedEvent | PrReviewThreadResolvedEvent {
  return event.type === "pr_review_thread_added" || event.type === "pr_review_thread_resolved";
}

/** The family of an event type; unknown types, even `pr_`-prefixed ones, are `other`. */
export function eventFamilyOf(type: string): EventFamily {
  switch (type) {
    case "session_created":
    case "session_updated":
      return "session";
    case "pr_created":
    case "pr_updated":
    case "pr_session_changed":
      return "pr";
    case "pr_check_recorded":
      return "check";
    case "pr_review_thread_added":
    case "pr_review_thread_resolved":
      return "review_thread";
    default:
      return "other";
  }
}
