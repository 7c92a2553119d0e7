/**
 * What one connection attempt asks the hub for: the same meaning over SSE (`project`, `type`,
 * `after` query parameters) and SignalR (the argument of `StreamEvents`).
 */
export interface StreamRequest {
  /** Projects to stream; empty means every project. */
  readonly projects: readonly string[];
  /** Event types, exact or a family prefix ending in `*` (`pr_*`); empty means every type. */
  readonly types: readonly string[];
  /** The opaque offset to resume after; `"0"` is the beginning; `null` is "from now". */
  readonly after: string | null;
}
