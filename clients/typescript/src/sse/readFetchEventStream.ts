import { EventStreamError } from "../EventStreamError.js";
import { fromHttpResponse } from "../transports/hubErrors.js";
import { SseParser, type SseParserHandlers } from "./SseParser.js";

/**
 * Reads one Server-Sent Events response with `fetch` (Node 18+, and browsers). Resolves when
 * the server ends the response or `signal` aborts; rejects with a retryable
 * {@link EventStreamError} when the connection fails, and with the hub's error (retryable or
 * not) for a non-2xx answer. `onOpen` runs once the response headers say 2xx. @internal
 */
export async function readFetchEventStream(url: string, headers: Record<string, string>, handlers: SseParserHandlers,
  onOpen: () => void, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { Accept: "text/event-stream", ...headers }, signal, cache: "no-store" });
  } catch (e) {
    if (signal.aborted) return;
    throw new EventStreamError("transport", `Could not reach the hub at ${url}: ${(e as Error).message}`, true);
  }
  if (!response.ok) throw await fromHttpResponse(response);
  if (response.body === null) throw new EventStreamError("transport", "The hub's response has no body.", true);
  onOpen();

  const parser = new SseParser(handlers);
  const decoder = new TextDecoder("utf-8");
  const reader = response.body.getReader();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        if (signal.aborted) return;
        throw new EventStreamError("transport", `The connection to the hub was lost: ${(e as Error).message}`, true);
      }
      if (chunk.done) return; // the server ended the stream
      parser.push(decoder.decode(chunk.value, { stream: true })); // a handler's error propagates as it is
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
