import type { EntityKeyDefinition } from "./EntityKeyDefinition.js";
import type { LiveEntity } from "./LiveEntity.js";

/** The hub's live-state answer, decoded (the same over HTTP and SignalR JSON or MessagePack). @internal */
export interface LoadedState {
  /** The offset the state is exact at: the stream continues after it. */
  readonly offset: string;
  /** Every entity with its latest event. */
  readonly entities: readonly LiveEntity[];
  /** Types in the selection that have no key, left out of the state. */
  readonly unkeyedTypes: readonly string[];
  /** The key of every keyed type: streamed events are keyed by it. */
  readonly entityKeys: Readonly<Record<string, EntityKeyDefinition>>;
}
