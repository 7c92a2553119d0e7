// Helpers that wait for stream output with bounded timeouts (never sleeps).
import { isStreamReset, type EventHubEvent, type EventStream, type StreamItem, type StreamReset } from "../../src/index.js";
import type { ConnectionState } from "../../src/ConnectionState.js";

/** Collects a stream's events (and resets) and lets a test wait for a count, bounded by a timeout. */
export class Collector {
  readonly events: EventHubEvent[] = [];
  readonly resets: StreamReset[] = [];
  /** Everything delivered, in order: events and resets. */
  readonly items: StreamItem[] = [];
  private waiters: Array<() => void> = [];
  readonly unsubscribe: () => void;

  /** Subscribes to `stream` (which starts it). */
  constructor(readonly stream: EventStream) {
    this.unsubscribe = stream.subscribe((e) => {
      this.items.push(e);
      if (isStreamReset(e)) this.resets.push(e);
      else this.events.push(e);
      for (const w of this.waiters) w();
    });
  }

  /** Waits until at least `count` resets arrived; rejects after `timeoutInMilliseconds`. */
  waitForResets(count: number, timeoutInMilliseconds = 15_000): Promise<StreamReset[]> {
    return waitUntil(() => this.resets.length >= count, (fn) => this.waiters.push(fn), timeoutInMilliseconds,
      () => `expected ${count} resets, got ${this.resets.length}; stream ${this.stream.state.getSnapshot().state}, error: ${this.stream.state.getSnapshot().error?.message ?? "none"}`)
      .then(() => this.resets);
  }

  /** Waits until at least `count` events arrived; rejects after `timeoutInMilliseconds`. */
  waitFor(count: number, timeoutInMilliseconds = 15_000): Promise<EventHubEvent[]> {
    return waitUntil(() => this.events.length >= count, (fn) => this.waiters.push(fn), timeoutInMilliseconds,
      () => `expected ${count} events, got ${this.events.length}: ${this.events.map((e) => e.type).join(", ")}; stream ${this.stream.state.getSnapshot().state}, error: ${this.stream.state.getSnapshot().error?.message ?? "none"}`)
      .then(() => this.events);
  }
}

/** Waits until `stream.state` is `state`; rejects after the timeout. */
export function waitForState(stream: EventStream, state: ConnectionState, timeoutInMilliseconds = 15_000): Promise<void> {
  let unsubscribe = () => {};
  return waitUntil(() => stream.state.getSnapshot().state === state, (fn) => { unsubscribe = stream.state.subscribe(fn); },
    timeoutInMilliseconds, () => `expected state ${state}, still ${stream.state.getSnapshot().state}`).finally(() => unsubscribe());
}

/** Waits until `done()` holds, re-checking whenever `onChange`'s callback runs; rejects after the timeout. */
export function waitUntil(done: () => boolean, onChange: (fn: () => void) => void, timeoutInMilliseconds: number,
  describe: () => string): Promise<void> {
  return new Promise((ok, fail) => {
    if (done()) { ok(); return; }
    const timer = setTimeout(() => fail(new Error(`Timed out after ${timeoutInMilliseconds} ms: ${describe()}`)), timeoutInMilliseconds);
    onChange(() => { if (done()) { clearTimeout(timer); ok(); } });
  });
}
