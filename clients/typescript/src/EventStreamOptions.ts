import type { ProjectNotice } from "./ProjectNotice.js";

/** How to open an {@link EventStream}. Only `url` is required. */
export interface EventStreamOptions {
  /**
   * The hub's base address, e.g. `http://127.0.0.1:5080`. In a browser, `""` means the page's
   * own origin. The client adds `/hubs/events` (SignalR) or `/api/v1/events` (SSE); a URL that already
   * ends with either is taken for the hub it names.
   */
  readonly url: string;
  /** Projects to stream; empty or absent means every project. */
  readonly projects?: readonly string[];
  /** Event types, exact (`pr_updated`) or a family prefix ending in `*` (`pr_*`); empty or absent means every type. */
  readonly types?: readonly string[];
  /**
   * Where to start: the opaque offset of the last event already processed, `"0"` for the
   * beginning of the log, or `null`/absent for "from now" (the first connection asks the hub for
   * its head offset and streams after it, so a drop before the first event loses nothing). After
   * that the stream tracks the offset itself and resumes after the last event it delivered.
   */
  readonly after?: string | null;
  /** The transport: the SignalR hub (default) or Server-Sent Events. */
  readonly transport?: "signalr" | "sse";
  /**
   * The SignalR hub protocol: `json` (default) or `msgpack`. `msgpack` loads the optional
   * package `@microsoft/signalr-protocol-msgpack` on first use. SSE streams JSON only: `msgpack`
   * with `transport: "sse"` throws a `TypeError` at construction.
   */
  readonly protocol?: "json" | "msgpack";
  /**
   * Returns the access token for each connection attempt (called again on every reconnect).
   * SignalR and the fetch-based SSE reader send it as a bearer token; a browser `EventSource`
   * cannot send headers, so there it goes in the `access_token` query parameter. A factory that
   * throws (its issuer unreachable) fails that attempt, which is retried with backoff.
   */
  readonly accessTokenFactory?: () => string | Promise<string>;
  /** Delays before reconnect attempts; defaults to {@link DEFAULT_RETRY_DELAYS_IN_MILLISECONDS}. */
  readonly retryDelaysInMilliseconds?: readonly number[];
  /**
   * How the SSE transport reads the stream:
   * - `auto` (default): the browser's `EventSource` wherever there is one, else (Node 20) the
   *   fetch-based reader. The `EventSource` asks the hub for frames without their `event:` line
   *   (`unnamed=true`), so it receives every type, future ones included.
   * - `eventsource`: the same as `auto` (until `unnamed=true`, `auto` chose fetch for a request
   *   that did not name exact types only).
   * - `fetch`: always the fetch-based reader: it sends the token as a header rather than in the
   *   URL, and it notices a connection that went quiet (`sseIdleTimeoutInMilliseconds`).
   */
  readonly sseReader?: "auto" | "eventsource" | "fetch";
  /**
   * How long the fetch-based SSE reader waits for anything from the hub (an event, or the
   * keep-alive comment it sends every `Sse:KeepAliveInterval`, 15 s by default) before it takes
   * the connection for lost and reconnects; default 45,000 ms, `0` turns it off. A connection
   * lost without a reset (a NAT's or proxy's dropped state, a laptop that slept) is otherwise
   * quiet for good and the stream shows `live`. Keep it above the hub's interval. A browser
   * `EventSource` does not show comments, so its reader has no such check.
   */
  readonly sseIdleTimeoutInMilliseconds?: number;
  /**
   * How long the SignalR transport waits for the hub to answer its negotiate request (and its
   * other HTTP requests) before the attempt fails and is retried; default 15,000 ms, `0` turns it
   * off. SignalR's own default is 100 s: a hub that accepts the connection and never answers
   * (hung, or another service on its port) left the stream `connecting` that long. The SSE
   * transport's fetch reader has `sseIdleTimeoutInMilliseconds` for the same.
   */
  readonly connectTimeoutInMilliseconds?: number;
  /** Called with each {@link ProjectNotice} the SignalR hub sends (SSE has none). */
  readonly onNotice?: (notice: ProjectNotice) => void;
  /**
   * How many recent `seq` values are remembered to drop a repeated event; default 10,000. A
   * dropped event is counted in the connection state (`duplicates`), not hidden.
   */
  readonly dedupWindow?: number;
  /**
   * How many events a `for await` loop may leave unread before the stream pauses; default 10,000.
   * Paused, the stream closes its connection, and once that loop has read half of them it
   * reconnects after the last event delivered: memory stays bounded for a loop slower than its
   * stream (a catch-up of a large log into slow work) and no event is lost or repeated. All
   * consumers of a stream share its connection, so they pause together. `subscribe` callbacks
   * have no buffer and never cause a pause.
   */
  readonly maxBufferedEvents?: number;
}
