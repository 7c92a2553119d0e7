/**
 * Where a {@link LiveStateStore} is:
 * - `idle`: created, not started;
 * - `loading`: loading the state (at start, and after a reset; the previous entities stay until the new state replaces them);
 * - `connecting`: the state is loaded; the stream after its offset is opening;
 * - `live`: the stream is open; every change is applied as it arrives;
 * - `reconnecting`: the connection dropped; it reconnects and resumes after the store's offset (no reload);
 * - `stopped`: `stop()` was called, or an error retrying cannot fix ended it (see `error`).
 */
export type LiveStateStatus = "idle" | "loading" | "connecting" | "live" | "reconnecting" | "stopped";
