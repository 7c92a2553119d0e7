// Type guards over stream items. They read only `type` (a reset has none), so they are as cheap as a switch.
import type { EventFamily } from "./EventFamily.js";
import type { StreamItem } from "../StreamItem.js";
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

/** The event's type, or undefined for a reset. */
const typeOf = (item: StreamItem): string | undefined => (item as { type?: string }).type;

/** Whether `type` is one of the eight {@link KNOWN_EVENT_TYPES}. */
export function isKnownEventType(type: string): type is KnownEventType {
  return known.has(type);
}

/** Whether the event has one of the eight known types; if so, `switch (event.type)` narrows it. */
export function isKnownEvent(event: StreamItem): event is KnownEvent {
  const type = typeOf(event);
  return type !== undefined && known.has(type);
}

/** Whether the event's type is not one of the eight known types (a newer family). */
export function isUnknownEvent(event: StreamItem): event is UnknownEvent {
  const type = typeOf(event);
  return type !== undefined && !known.has(type);
}

/** Whether the event has the given known type: `isEventType(e, "pr_updated")` narrows `e` to `PrUpdatedEvent`. */
export function isEventType<T extends KnownEventType>(event: StreamItem, type: T): event is EventOfType<T> {
  return typeOf(event) === type;
}

/** Whether the event is `session_created` or `session_updated`. */
export function isSessionEvent(event: StreamItem): event is SessionCreatedEvent | SessionUpdatedEvent {
  return typeOf(event) === "session_created" || typeOf(event) === "session_updated";
}

/** Whether the event is about a PR itself: `pr_created`, `pr_updated` or `pr_session_changed`. */
export function isPrEvent(event: StreamItem): event is PrCreatedEvent | PrUpdatedEvent | PrSessionChangedEvent {
  return typeOf(event) === "pr_created" || typeOf(event) === "pr_updated" || typeOf(event) === "pr_session_changed";
}

/** Whether the event is `pr_check_recorded`. */
export function isCheckEvent(event: StreamItem): event is PrCheckRecordedEvent {
  return typeOf(event) === "pr_check_recorded";
}

/** Whether the event is `pr_review_thread_added` or `pr_review_thread_resolved`. */
export function isReviewThreadEvent(event: StreamItem): event is PrReviewThreadAddedEvent | PrReviewThreadResolvedEvent {
  return typeOf(event) === "pr_review_thread_added" || typeOf(event) === "pr_review_thread_resolved";
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
