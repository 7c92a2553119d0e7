import type { StreamRequest } from "../StreamRequest.js";
import { eventSourceListenTypes } from "../sse/eventSourceListenTypes.js";
import { readBrowserEventSource } from "../sse/readBrowserEventSource.js";
import { readFetchEventStream } from "../sse/readFetchEventStream.js";
import type { StateLoader, StateRequest } from "./StateLoader.js";
import type { Transport } from "./Transport.js";
import type { TransportSink } from "./TransportSink.js";
import { hubUrl } from "./hubUrl.js";
import { fromHttpResponse, parseResetFrame, parseStreamErrorFrame, unexpectedResponse } from "./hubErrors.js";
import { EventStreamError } from "../EventStreamError.js";

/** The hub's SSE endpoint, relative to its base address. */
export const SSE_PATH = "/api/v1/events";
/** The hub's live-state endpoint, relative to its base address. */
export const STATE_PATH = "/api/v1/state";
/** Three of the hub's default keep-alive intervals (15 s): see `EventStreamOptions.sseIdleTimeoutInMilliseconds`. */
export const DEFAULT_SSE_IDLE_TIMEOUT_IN_MILLISECONDS = 45_000;

/**
 * Server-Sent Events transport: `GET /api/v1/events?project=..&type=..&after=..`. The offset
 * goes in `after` on every attempt (the stream, not the browser, resumes), so the browser's own
 * `Last-Event-ID` never comes into play. The live state is `GET /api/v1/state` with the same
 * `project`/`type` parameters and the same token. @internal
 */
export class SseTransport implements Transport, StateLoader {
  /**
   * @param baseUrl - the hub's base address.
   * @param reader - which reader to use (see `EventStreamOptions.sseReader`).
   * @param accessTokenFactory - the token for each attempt, if any.
   * @param idleTimeoutInMilliseconds - how long the fetch reader waits for any data before it takes
   *   the connection for lost (0: no limit).
   */
  constructor(
    private readonly baseUrl: string,
    private readonly reader: "auto" | "eventsource" | "fetch",
    private readonly accessTokenFactory?: () => string | Promise<string>,
    private readonly idleTimeoutInMilliseconds = DEFAULT_SSE_IDLE_TIMEOUT_IN_MILLISECONDS,
  ) {}

  /**
   * Whether this request is read with the browser's `EventSource`: wherever there is one, unless
   * the `fetch` reader is asked for. It asks the hub for frames without their `event:` line
   * (`unnamed=true`), so its `onmessage` receives every type, future ones included.
   */
  usesEventSource(): boolean {
    return this.reader !== "fetch" && typeof EventSource === "function";
  }

  /**
   * The factory's token for this attempt. A factory that throws (its issuer unreachable) fails the
   * attempt as a transport error, retried with backoff, as the SignalR transport's start does; it
   * used to escape as a plain error, which stopped the stream for good.
   */
  private async token(): Promise<string | undefined> {
    if (!this.accessTokenFactory) return undefined;
    try {
      return await this.accessTokenFactory();
    } catch (e) {
      throw new EventStreamError("transport", `The access token factory failed: ${e instanceof Error ? e.message : String(e)}`, true);
    }
  }

  async run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    const token = await this.token();
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    let after = request.after;
    if (after === null) {
      // "From now" as a fixed point: a drop before the first event resumes from here.
      after = await this.headOffset(headers, signal);
      if (signal.aborted) return;
      sink.head(after);
    }
    const query = new URLSearchParams();
    for (const p of request.projects) query.append("project", p);
    for (const t of request.types) query.append("type", t);
    query.set("after", after);
    const onData = (data: string) => sink.event(JSON.parse(data));
    const onReset = (data: string) => sink.reset(parseResetFrame(data));
    // The hub ends a stream it can no longer serve with `event: stream_error` (for example
    // token_expired): a retryable one reconnects, asking the token factory for a fresh token.
    const onStreamError = (data: string): never => { throw parseStreamErrorFrame(data); };

    if (this.usesEventSource()) {
      // Every event as a plain message (a hub older than the parameter ignores it and names its
      // frames: the known types' listeners still hear those).
      query.set("unnamed", "true");
      if (token) query.set("access_token", token);
      const url = `${hubUrl(this.baseUrl, SSE_PATH)}?${query}`;
      await readBrowserEventSource(url, eventSourceListenTypes(request.types), onData, onReset, () => sink.open(), signal, onStreamError);
      return;
    }
    const url = `${hubUrl(this.baseUrl, SSE_PATH)}?${query}`;
    await readFetchEventStream(url, headers, {
      message: (m) => (m.type === "reset" ? onReset(m.data) : m.type === "stream_error" ? onStreamError(m.data) : onData(m.data)),
      retry: (ms) => sink.retryHint(ms),
    }, () => sink.open(), signal, this.idleTimeoutInMilliseconds);
  }

  /** `GET /api/v1/state?project=..&type=..`: the live state, as parsed JSON. */
  async loadState(request: StateRequest, signal: AbortSignal): Promise<unknown> {
    const token = await this.token();
    const query = new URLSearchParams();
    for (const p of request.projects) query.append("project", p);
    for (const t of request.types) query.append("type", t);
    const search = query.toString();
    const url = `${hubUrl(this.baseUrl, STATE_PATH)}${search ? `?${search}` : ""}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Accept: "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) }, signal, cache: "no-store",
      });
      if (!response.ok) throw await fromHttpResponse(response);
      return await response.json();
    } catch (e) {
      if (e instanceof EventStreamError) throw e;
      throw new EventStreamError("transport", `Could not load the live state from ${url}: ${(e as Error).message}`, true);
    }
  }

  /** `GET /api/v1/events/head`: the log's head offset ("now" as a fixed point). */
  private async headOffset(headers: Record<string, string>, signal: AbortSignal): Promise<string> {
    const url = `${hubUrl(this.baseUrl, SSE_PATH)}/head`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json", ...headers }, signal, cache: "no-store" });
    } catch (e) {
      if (signal.aborted) return "";
      throw new EventStreamError("transport", `Could not reach the hub at ${url}: ${(e as Error).message}`, true);
    }
    if (!response.ok) throw await fromHttpResponse(response);
    let body: { offset?: unknown } | null;
    try {
      body = (await response.json()) as { offset?: unknown } | null;
    } catch (e) {
      if (signal.aborted) return "";
      const contentType = response.headers.get("content-type") ?? "";
      // A JSON answer cut short: the connection failed. Anything else is a page rather than the
      // hub's answer (a url that is not the hub's, a dev server's fallback page): retrying would
      // get the same page.
      if (/\bjson\b/i.test(contentType))
        throw new EventStreamError("transport", `The hub's head offset answer was cut short: ${(e as Error).message}`, true);
      throw unexpectedResponse(url, contentType, "the hub's head offset");
    }
    if (typeof body?.offset !== "string") throw new EventStreamError("transport", `The hub's head offset answer has no offset.`, true);
    return body.offset;
  }
}
