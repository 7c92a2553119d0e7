/**
 * How the stream reacts to an error code, from the hub's one error contract
 * (`Contracts/ErrorContract.cs`, written out in `Contracts/error-contract.json`):
 * - `never`: stop with the error; the same request fails again.
 * - `at_once`: reconnect without waiting (the hub is stopping; a reset continues at once too), once
 *   after progress: a second one in a row without an event between backs off.
 * - `with_backoff`: reconnect after `retryDelaysInMilliseconds` (the server's side, a limit, an unknown code).
 * - `with_fresh_token`: reconnect at once, asking `accessTokenFactory` again; a second such error
 *   before an event arrives, or before a stream has run 1 s on the fresh token, stops the stream.
 */
export type RetryMode = "never" | "at_once" | "with_backoff" | "with_fresh_token";
