// Why notifications are batched: at 1,000 events a minute, or during a catch-up of thousands,
// re-rendering a list per event would make a UI stutter. The list is rebuilt at most once per
// `intervalInMilliseconds`, and only the newest `capacity` events are kept, so rendering cost is
// bounded whatever the rate.
import type { EventHubEvent } from "./events/EventHubEvent.js";

/**
 * The newest events of a stream, newest first, capped at `capacity`: an external store for UIs
 * (`useSyncExternalStore(recent.subscribe, recent.getSnapshot)`). `push` is cheap; listeners are
 * told at most once per `intervalInMilliseconds`, and `getSnapshot` returns a new array only then.
 */
export class RecentEvents {
  private snapshot: readonly EventHubEvent[] = [];
  private pending: EventHubEvent[] = [];
  private total = 0;
  private shownTotal = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();

  /**
   * @param capacity - how many events to keep (default 500).
   * @param intervalInMilliseconds - the shortest time between two notifications (default 100).
   */
  constructor(readonly capacity = 500, readonly intervalInMilliseconds = 100) {}

  /** How many events the current snapshot accounts for since creation or the last `clear` (not capped). */
  get count(): number {
    return this.shownTotal;
  }

  /** The kept events, newest first; the same array until the next notification. */
  readonly getSnapshot = (): readonly EventHubEvent[] => this.snapshot;

  /** Calls `listener` after the list changed; returns the function that unsubscribes it. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** Adds an event (the newest). */
  push(event: EventHubEvent): void {
    this.pending.push(event);
    if (this.pending.length > this.capacity) this.pending.splice(0, this.pending.length - this.capacity);
    this.total++;
    this.timer ??= setTimeout(() => this.flush(), this.intervalInMilliseconds);
  }

  /** Empties the list and notifies at once. */
  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.total = 0;
    this.shownTotal = 0;
    this.snapshot = [];
    this.notify();
  }

  /** Applies pending events now and notifies (called by the timer; tests may call it). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const added = this.pending.reverse();
    this.pending = [];
    const keep = Math.max(0, this.capacity - added.length);
    this.snapshot = keep === 0 ? added.slice(0, this.capacity) : added.concat(this.snapshot.slice(0, keep));
    this.shownTotal = this.total;
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
