import type { RetryMode } from "./RetryMode.js";

/**
 * An error the hub reported for a stream request, with its stable code (for example
 * `invalid_offset`, `forbidden_project`, `token_expired`) and how the stream retries it, from the
 * hub's error contract. When `retryable` is false (`retry` is `never`), reconnecting with the same
 * request cannot help and the stream stops.
 */
export class EventStreamError extends Error {
  /** The hub's stable error code, or `http_<status>` / `transport` when it gave none. */
  readonly code: string;
  /** How the stream retries: `never`, `at_once`, `with_backoff` or `with_fresh_token`. */
  readonly retry: RetryMode;
  /** Whether trying again may succeed (`retry` is not `never`). */
  readonly retryable: boolean;

  /**
   * @param code - the stable error code.
   * @param message - what happened and what to do.
   * @param retry - how the stream retries; `true` means `with_backoff`, `false` means `never`.
   */
  constructor(code: string, message: string, retry: RetryMode | boolean) {
    super(message);
    this.name = "EventStreamError";
    this.code = code;
    this.retry = retry === true ? "with_backoff" : retry === false ? "never" : retry;
    this.retryable = this.retry !== "never";
  }
}
