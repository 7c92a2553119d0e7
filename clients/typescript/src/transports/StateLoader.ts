/** What a live-state load asks the hub for: the stream's `project` and `type` selection. @internal */
export interface StateRequest {
  /** Projects; empty means every project (the token's, in token mode). */
  readonly projects: readonly string[];
  /** Event types, exact or a family prefix ending in `*`; empty means every type. */
  readonly types: readonly string[];
}

/**
 * Loads the hub's live state (`GET /api/v1/state`, or the SignalR hub's `StreamState` pages): resolves
 * with the answer as the transport decoded it (a JSON object, or a MessagePack map), rejects with
 * an `EventStreamError` classified by the error contract. @internal
 */
export interface StateLoader {
  /** One attempt at loading the state for `request`; `signal` aborts it. */
  loadState(request: StateRequest, signal: AbortSignal): Promise<unknown>;
}
