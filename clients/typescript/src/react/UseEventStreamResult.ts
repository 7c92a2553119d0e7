import type { ConnectionState } from "../ConnectionState.js";
import type { EventHubEvent } from "../events/EventHubEvent.js";
import type { EventStream } from "../EventStream.js";
import type { StreamReset } from "../StreamReset.js";

/** What {@link useEventStream} returns. */
export interface UseEventStreamResult {
  /** The newest events, newest first, at most `capacity` of them. */
  readonly events: readonly EventHubEvent[];
  /** How many events arrived since the stream was (re)created; not capped. */
  readonly received: number;
  /** The connection state. */
  readonly state: ConnectionState;
  /** The offset of the last event delivered (where a resume starts), or the start offset. */
  readonly offset: string | null;
  /** Why the stream is reconnecting or stopped, if it is not fine. */
  readonly error: Error | null;
  /**
   * The last reset the hub signalled, or `null`. On a reset `events` starts afresh: refetch the
   * state the component shows (the stream continues after the reset's offset by itself).
   */
  readonly lastReset: StreamReset | null;
  /** The underlying stream, or `null` when the options were `null`. */
  readonly stream: EventStream | null;
}
