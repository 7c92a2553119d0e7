import { reportError } from "./reportError.js";
import type { ConnectionSnapshot } from "./ConnectionSnapshot.js";

/**
 * A small external store of a stream's {@link ConnectionSnapshot}, shaped for React's
 * `useSyncExternalStore(store.subscribe, store.getSnapshot)`: `getSnapshot` returns the same
 * object until something changes, and both methods are bound, so they can be passed around.
 * Listeners run synchronously after each change; a listener that throws does not stop the others.
 */
export class ConnectionStateStore {
  private snapshot: ConnectionSnapshot;
  private readonly listeners = new Set<() => void>();

  /** @param initial - the first snapshot (a new stream starts `idle`). */
  constructor(initial: ConnectionSnapshot) {
    this.snapshot = initial;
  }

  /** The current snapshot: the same object until the next change. */
  readonly getSnapshot = (): ConnectionSnapshot => this.snapshot;

  /** Calls `listener` after every change; returns the function that unsubscribes it. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /**
   * Applies a change and notifies listeners if any field actually changed.
   * @internal Used by the stream; consumers only read.
   */
  update(change: Partial<ConnectionSnapshot>): void {
    const next = { ...this.snapshot, ...change };
    const prev = this.snapshot;
    if (next.state === prev.state && next.offset === prev.offset && next.error === prev.error
      && next.failedAttempts === prev.failedAttempts && next.lastReset === prev.lastReset
      && next.duplicates === prev.duplicates && next.paused === prev.paused) return;
    this.snapshot = Object.freeze(next);
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (e) {
        reportError(e); // the other listeners still run
      }
    }
  }
}
