import { KNOWN_EVENT_TYPES } from "./eventTypes.generated.js";

// The list is generated from Contracts/event-types.json, the one description of the event types.
export { KNOWN_EVENT_TYPES };

/** One of {@link KNOWN_EVENT_TYPES}. */
export type KnownEventType = (typeof KNOWN_EVENT_TYPES)[number];
