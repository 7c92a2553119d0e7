import type { EventHubEvent } from "./events/EventHubEvent.js";
import type { StreamReset } from "./StreamReset.js";

/**
 * What a stream delivers, in order: an event, or a {@link StreamReset} (refetch state, then
 * continue). Narrow with {@link isStreamReset} (or `"kind" in item`); the event guards
 * (`isEventType`, `isKnownEvent`, …) accept a `StreamItem` and are false for a reset.
 */
export type StreamItem = EventHubEvent | StreamReset;

/** Whether the item is a {@link StreamReset} rather than an event. */
export function isStreamReset(item: StreamItem): item is StreamReset {
  return (item as Partial<StreamReset>).kind === "reset";
}

/** Whether the item is an event (known or unknown type) rather than a {@link StreamReset}. */
export function isChangeEvent(item: StreamItem): item is EventHubEvent {
  return (item as Partial<StreamReset>).kind !== "reset";
}
