/**
 * Where a stream is:
 * - `idle`: created, not started;
 * - `connecting`: the first connection attempt is under way;
 * - `live`: the stream is open and events flow (catch-up first, then live);
 * - `reconnecting`: the connection dropped (or an attempt failed); it waits for its retry delay
 *   and reconnects, resuming after the last offset it delivered;
 * - `stopped`: `stop()` was called, or an error that retrying cannot fix ended it (see `error`).
 */
export type ConnectionState = "idle" | "connecting" | "live" | "reconnecting" | "stopped";
