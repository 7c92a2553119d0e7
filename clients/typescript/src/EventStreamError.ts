/**
 * An error the hub reported for a stream request, with its stable code (for example
 * `invalid_offset`, `offset_out_of_range`, `invalid_project`).
 * When `retryable` is false, reconnecting with the same request cannot help and the stream stops.
 */
export class EventStreamError extends Error {
  /** The hub's stable error code, or `http_<status>` / `transport` when it gave none. */
  readonly code: string;
  /** Whether trying again may succeed. */
  readonly retryable: boolean;

  /**
   * @param code - the stable error code.
   * @param message - what happened and what to do.
   * @param retryable - whether the stream should retry.
   */
  constructor(code: string, message: string, retryable: boolean) {
    super(message);
    this.name = "EventStreamError";
    this.code = code;
    this.retryable = retryable;
  }
}
