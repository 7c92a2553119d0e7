import type { EventHubEvent } from "../events/EventHubEvent.js";

/**
 * One entity of the live state (a session, a PR, a check, a review thread, or a kind the hub's
 * configuration keys) and its latest event. Entities are per project: the same key in two projects
 * (a PR moved to a session of another project) is two entities.
 *
 * @typeParam E - the event types of the entity's kind.
 */
export interface LiveEntity<E extends EventHubEvent = EventHubEvent> {
  /** `liveEntityId(projectId, ...keyValues)`: the entity's key in the snapshot's maps. */
  readonly id: string;
  /** The entity's kind: `session`, `pr`, `check`, `thread`, or a configured one. */
  readonly kind: string;
  /** The project the entity belongs to. */
  readonly projectId: string;
  /** The key's values, in the order of the kind's key fields (for a check: `[pr, name, commit]`). */
  readonly keyValues: readonly unknown[];
  /** The entity's latest event (the highest `seq` of the entity's events) as of the store's offset. */
  readonly event: E;
}
