import type { StreamReset } from "../StreamReset.js";
import type { EntityKeyDefinition } from "./EntityKeyDefinition.js";
import type { CheckEntityEvent, PrEntityEvent, SessionEntityEvent, ThreadEntityEvent } from "./EntityEvents.js";
import type { LiveEntity } from "./LiveEntity.js";
import type { LiveStateStatus } from "./LiveStateStatus.js";

/**
 * An immutable view of a {@link LiveStateStore}: the entities exactly as of `offset`, with how the
 * store is doing. The maps are keyed by {@link liveEntityId} (`liveEntityId(project, ...keyValues)`).
 * A new snapshot (and new maps for the kinds that changed) after each change; the same objects otherwise.
 */
export interface LiveStateSnapshot {
  /** Where the store is. */
  readonly status: LiveStateStatus;
  /** The offset the entities are exact at (the last event applied, or the loaded state's); `null` before the first load. */
  readonly offset: string | null;
  /** Sessions (kind `session`), keyed by `liveEntityId(project, id)`. */
  readonly sessions: ReadonlyMap<string, LiveEntity<SessionEntityEvent>>;
  /** PRs (kind `pr`), keyed by `liveEntityId(project, url)`. */
  readonly prs: ReadonlyMap<string, LiveEntity<PrEntityEvent>>;
  /** CI checks (kind `check`), keyed by `liveEntityId(project, pr, name, commit)`. */
  readonly checks: ReadonlyMap<string, LiveEntity<CheckEntityEvent>>;
  /** Review threads (kind `thread`), open and resolved, keyed by `liveEntityId(project, pr, thread)`. */
  readonly threads: ReadonlyMap<string, LiveEntity<ThreadEntityEvent>>;
  /** Every kind (the four above and any the hub's configuration keys), by kind, then by id. */
  readonly kinds: ReadonlyMap<string, ReadonlyMap<string, LiveEntity>>;
  /** Types seen in the state or the stream that have no key: their events are not in the state. */
  readonly unkeyedTypes: readonly string[];
  /** The key of every keyed type, as the hub said in the last state it loaded. */
  readonly entityKeys: Readonly<Record<string, EntityKeyDefinition>>;
  /** How many times the state was loaded: 1 after the start, one more per reset (a reconnect reloads nothing). */
  readonly loads: number;
  /** The last reset the hub signalled (the store reloaded the state after it), or `null`. */
  readonly lastReset: StreamReset | null;
  /** Why the store is retrying or stopped; `null` when it is fine or was stopped on purpose. */
  readonly error: Error | null;
}
