import type { LiveStateSnapshot } from "../state/LiveStateSnapshot.js";
import type { LiveStateStore } from "../state/LiveStateStore.js";

/** What {@link useLiveState} returns: the store's snapshot (sessions, PRs, checks, threads, offset, status…) and the store. */
export interface UseLiveStateResult extends LiveStateSnapshot {
  /** The underlying store, or `null` when the settings were `null`. */
  readonly store: LiveStateStore | null;
}
