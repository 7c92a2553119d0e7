// The Server-Sent Events parsing itself is eventsource-parser's (a small, widely used parser
// that follows the WHATWG "interpret an event stream" rules): issue 14 point 6 replaced the
// hand-written parser this client used to carry. This file only adapts its callbacks to the
// client's SseMessage, which keeps the browser EventSource's meaning of `type` and `lastEventId`.
import { createParser } from "eventsource-parser";
import { EventStreamError } from "../EventStreamError.js";
import { fromHttpResponse, unexpectedResponse } from "../transports/hubErrors.js";
import type { SseHandlers } from "./SseHandlers.js";

/**
 * Reads one Server-Sent Events response with `fetch` (Node 18+, and browsers). Resolves when
 * the server ends the response or `signal` aborts; rejects with a retryable
 * {@link EventStreamError} when the connection fails or stays silent for `idleTimeoutMs` (the
 * hub sends a keep-alive comment meanwhile; 0: no limit), and with the hub's error (retryable or
 * not) for a non-2xx answer. A 2xx answer that is not an event stream (a page served for a wrong
 * url) stops: retrying would get the same. `onOpen` runs once the response headers say 2xx and
 * `text/event-stream`. An error thrown by a handler ends the read and rejects with that error. @internal
 */
export async function readFetchEventStream(url: string, headers: Record<string, string>, handlers: SseHandlers,
  onOpen: () => void, signal: AbortSignal, idleTimeoutMs = 0): Promise<void> {
  // Aborted by the caller, or by the idle check below (then the read fails as a lost connection).
  const idle = new AbortController();
  const aborted = () => idle.abort();
  if (signal.aborted) return; // an abort listener added now would never run
  signal.addEventListener("abort", aborted, { once: true });
  let lastData = performance.now();
  let silent = false;
  const idleCheck = idleTimeoutMs > 0
    ? setInterval(() => {
      if (performance.now() - lastData < idleTimeoutMs) return;
      silent = true;
      idle.abort();
    }, Math.max(1, Math.min(idleTimeoutMs / 4, 5_000)))
    : undefined;
  const lost = (e: unknown) => signal.aborted ? undefined : new EventStreamError("transport", silent
    ? `Nothing arrived from the hub for ${Math.round(idleTimeoutMs / 1000)} s (not even its keep-alive): the connection was taken for lost.`
    : `The connection to the hub was lost: ${(e as Error).message}`, true);
  try {
    let response: Response;
    try {
      response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal: idle.signal, cache: "no-store" });
    } catch (e) {
      if (signal.aborted) return;
      if (silent) throw lost(e);
      throw new EventStreamError("transport", `Could not reach the hub at ${url}: ${(e as Error).message}`, true);
    }
    if (!response.ok) throw await fromHttpResponse(response);
    const contentType = response.headers.get("content-type") ?? "";
    if (!/^text\/event-stream\b/i.test(contentType)) {
      await response.body?.cancel().catch(() => undefined);
      throw unexpectedResponse(url, contentType, "an event stream");
    }
    if (response.body === null) throw new EventStreamError("transport", "The hub's response has no body.", true);
    onOpen();
    await readBody(response.body, handlers, () => { lastData = performance.now(); }, lost);
  } finally {
    if (idleCheck !== undefined) clearInterval(idleCheck);
    signal.removeEventListener("abort", aborted);
  }
}

async function readBody(body: ReadableStream<Uint8Array>, handlers: SseHandlers, onData: () => void,
  lost: (e: unknown) => EventStreamError | undefined): Promise<void> {
  const parser = createSseParser(handlers);
  // TextDecoder strips a leading BOM and keeps a multi-byte character split across chunks whole.
  const decoder = new TextDecoder("utf-8");
  const reader = body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        const error = lost(e);
        if (error === undefined) return; // aborted by the caller
        throw error;
      }
      if (chunk.done) return; // the server ended the stream; an unfinished message is dropped, as the spec requires
      onData();
      parser.feed(decoder.decode(chunk.value, { stream: true })); // a handler's error propagates as it is
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

/**
 * An eventsource-parser instance that reports to `handlers`: `feed` it decoded text chunks.
 * eventsource-parser leaves `event` undefined when there was none and gives each message only its
 * own `id`; the client's {@link SseMessage} follows the browser `EventSource` instead (`"message"`
 * by default, the last id carried over), so the same handlers serve both readers. @internal
 */
export function createSseParser(handlers: SseHandlers): { feed(chunk: string): void } {
  let lastEventId = "";
  return createParser({
    onEvent: (e) => {
      if (e.id !== undefined) lastEventId = e.id;
      handlers.message({ type: e.event ?? "message", data: e.data, lastEventId });
    },
    onRetry: (ms) => handlers.retry?.(ms),
    onComment: handlers.comment ? (text) => handlers.comment!(text) : undefined,
    // Invalid retry values and unknown fields are ignored, as the spec says (the parser reports them here).
    onError: () => undefined,
  });
}
