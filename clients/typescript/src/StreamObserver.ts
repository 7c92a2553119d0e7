import type { EventHubEvent } from "./events/EventHubEvent.js";

/** The callback form of an {@link EventStream}: pass it to `subscribe`. */
export interface StreamObserver {
  /** Each event, in the hub's order, once. */
  next(event: EventHubEvent): void;
  /** The stream stopped on an error that retrying cannot fix (bad offset, bad filter, bad frame). */
  error?(error: Error): void;
  /** The stream was stopped with `stop()`. */
  complete?(): void;
}
