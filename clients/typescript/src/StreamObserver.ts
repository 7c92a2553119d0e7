import type { StreamItem } from "./StreamItem.js";

/** The callback form of an {@link EventStream}: pass it to `subscribe`. */
export interface StreamObserver {
  /**
   * Each event, in the hub's order, once; and a {@link StreamReset} where the hub could not
   * continue without a gap (`isStreamReset(item)`: refetch state, then continue).
   */
  next(item: StreamItem): void;
  /** The stream stopped on an error that retrying cannot fix (bad offset, bad filter, bad frame). */
  error?(error: Error): void;
  /** The stream was stopped with `stop()`. */
  complete?(): void;
}
