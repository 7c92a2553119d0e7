import { EventStreamError } from "../EventStreamError.js";
import { fromHttpResponse } from "../transports/hubErrors.js";

/**
 * Reads the stream with the browser's `EventSource`: plain `message` frames (the hub's events when
 * asked for `unnamed=true`), `listenTypes` (the names a hub that ignores the parameter gives its
 * frames) and the hub's `reset` and `stream_error` frames.
 *
 * The stream owns reconnection, so on the first error this closes the `EventSource` instead of
 * letting the browser reconnect by itself: a drop after `open` resolves (the stream resumes from
 * its own offset), a failure before `open` rejects. An `EventSource` cannot read an error
 * response, so on such a failure one `fetch` of the same URL asks for the status and the hub's
 * error code, to tell a wrong request (stop) from an unreachable hub (retry). @internal
 */
export function readBrowserEventSource(url: string, listenTypes: readonly string[], onData: (data: string) => void,
  onReset: (data: string) => void, onOpen: () => void, signal: AbortSignal,
  onStreamError: (data: string) => void = () => {}): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const source = new EventSource(url);
    let opened = false;
    const close = () => {
      source.close();
      signal.removeEventListener("abort", onAbort);
    };
    const onAbort = () => {
      close();
      resolve();
    };
    const onMessage = (e: MessageEvent<string>) => {
      try {
        onData(e.data);
      } catch (error) {
        close();
        reject(error);
      }
    };
    for (const type of listenTypes) source.addEventListener(type, onMessage);
    // The hub's reset signal (`event: reset`); the hub then ends the response, and the "error"
    // that follows resolves: the stream continues from the reset's offset.
    source.addEventListener("reset", (e: MessageEvent<string>) => {
      try {
        onReset(e.data);
      } catch (error) {
        close();
        reject(error);
      }
    });
    // The hub's last frame for a stream it ends with a reason (for example token_expired).
    source.addEventListener("stream_error", (e: MessageEvent<string>) => {
      close();
      try {
        onStreamError(e.data);
        resolve();
      } catch (error) {
        reject(error);
      }
    });
    source.addEventListener("message", onMessage);
    source.addEventListener("open", () => {
      opened = true;
      onOpen();
    });
    source.addEventListener("error", () => {
      close();
      if (opened) {
        resolve();
        return;
      }
      probe(url, signal).then(reject, reject);
    });
    signal.addEventListener("abort", onAbort);
  });
}

async function probe(url: string, signal: AbortSignal): Promise<EventStreamError> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener("abort", onAbort);
  try {
    const response = await fetch(url, { headers: { Accept: "text/event-stream" }, signal: controller.signal, cache: "no-store" });
    if (!response.ok) return await fromHttpResponse(response);
    return new EventStreamError("transport", "The EventSource failed to connect to the hub.", true);
  } catch (e) {
    return new EventStreamError("transport", `Could not reach the hub at ${url}: ${(e as Error).message}`, true);
  } finally {
    controller.abort();
    signal.removeEventListener("abort", onAbort);
  }
}
