import type { ConnectionState } from "./ConnectionState.js";
import type { StreamReset } from "./StreamReset.js";

/** An immutable view of a stream's connection, as {@link ConnectionStateStore} hands it out. */
export interface ConnectionSnapshot {
  /** The connection state. */
  readonly state: ConnectionState;
  /** The offset of the last event delivered (where a reconnect resumes), or the start offset; `null` means "from now". */
  readonly offset: string | null;
  /** Why the stream is reconnecting or stopped; `null` when it is fine or was stopped on purpose. */
  readonly error: Error | null;
  /**
   * How many attempts in a row have failed since the stream last made progress (an event, or 10 s
   * open); 0 while live. An attempt the hub accepted and ended at once counts as failed.
   */
  readonly failedAttempts: number;
  /**
   * The last reset the hub signalled (refetch state, then continue), or `null`. It stays until the
   * next one, so a UI can show that its data was refetched; the reset is also an item of the stream.
   */
  readonly lastReset: StreamReset | null;
  /**
   * How many events arrived again (a `seq` the stream had already delivered) and were dropped.
   * The hub sends each event once, so anything but 0 is a fault worth reporting; the stream also
   * warns on the console the first time. It counts for the stream's whole life, across resets.
   */
  readonly duplicates: number;
  /**
   * Whether the stream is paused because a `for await` loop has `maxBufferedEvents` events it has
   * not read yet: its connection is closed meanwhile, and it reconnects after the last event
   * delivered once that loop has read half of them. `state` stays as it was (`live`).
   */
  readonly paused: boolean;
}
