import type { KnownEvent } from "./KnownEvent.js";
import type { UnknownEvent } from "./UnknownEvent.js";

/**
 * What a stream delivers: a {@link KnownEvent} or, for a type this client does not know, an
 * {@link UnknownEvent}. Because an unknown type is any string, `event.type === "pr_updated"`
 * alone cannot narrow this union; use {@link isKnownEvent} or {@link isEventType} first.
 */
export type EventHubEvent = KnownEvent | UnknownEvent;
