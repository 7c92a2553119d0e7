import type { EventStreamOptions } from "../EventStreamOptions.js";

/**
 * How to open a {@link LiveStateStore}: the options of an {@link EventStream} (where the hub is,
 * which projects and types, which transport, the token), except `after`: the store starts from
 * the state it loads.
 */
export interface LiveStateOptions extends Omit<EventStreamOptions, "after"> {
  /**
   * The shortest time between two notifications caused by streamed events (default 100): a burst
   * of events costs one new snapshot. `0` publishes after every event (each copies the maps of
   * the kind it changed). Loads, resets and status changes are published at once.
   */
  readonly notifyIntervalInMilliseconds?: number;
}
