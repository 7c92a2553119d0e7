import type { StreamRequest } from "../StreamRequest.js";
import { eventSourceListenTypes } from "../sse/eventSourceListenTypes.js";
import { readBrowserEventSource } from "../sse/readBrowserEventSource.js";
import { readFetchEventStream } from "../sse/readFetchEventStream.js";
import type { Transport } from "./Transport.js";
import type { TransportSink } from "./TransportSink.js";
import { hubUrl } from "./hubUrl.js";

/** The hub's SSE endpoint, relative to its base address. */
export const SSE_PATH = "/api/v1/events";

/**
 * Server-Sent Events transport: `GET /api/v1/events?project=..&type=..&after=..`. The offset
 * goes in `after` on every attempt (the stream, not the browser, resumes), so the browser's own
 * `Last-Event-ID` never comes into play. @internal
 */
export class SseTransport implements Transport {
  /**
   * @param baseUrl - the hub's base address.
   * @param reader - which reader to use (see `EventStreamOptions.sseReader`).
   * @param accessTokenFactory - the token for each attempt, if any.
   */
  constructor(
    private readonly baseUrl: string,
    private readonly reader: "auto" | "eventsource" | "fetch",
    private readonly accessTokenFactory?: () => string | Promise<string>,
  ) {}

  /** Whether this request would be read with the browser's `EventSource`. */
  usesEventSource(request: StreamRequest): boolean {
    if (this.reader === "fetch" || typeof EventSource !== "function") return false;
    if (this.reader === "eventsource") return true;
    return request.types.length > 0 && request.types.every((t) => !t.endsWith("*"));
  }

  async run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    const query = new URLSearchParams();
    for (const p of request.projects) query.append("project", p);
    for (const t of request.types) query.append("type", t);
    if (request.after !== null) query.set("after", request.after);
    const token = this.accessTokenFactory ? await this.accessTokenFactory() : undefined;
    const onData = (data: string) => sink.event(JSON.parse(data));

    if (this.usesEventSource(request)) {
      if (token) query.set("access_token", token);
      const url = `${hubUrl(this.baseUrl, SSE_PATH)}?${query}`;
      await readBrowserEventSource(url, eventSourceListenTypes(request.types), onData, () => sink.open(), signal);
      return;
    }
    const url = `${hubUrl(this.baseUrl, SSE_PATH)}?${query}`;
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    await readFetchEventStream(url, headers, {
      message: (m) => onData(m.data),
      retry: (ms) => sink.retryHint(ms),
    }, () => sink.open(), signal);
  }
}
