// How the transports turn what the hub sends into resets and errors, all classified by the one
// error contract (errorContract.ts). Over SignalR the stream's end arrives as its final item (the
// client asks for signal items), whose payload is the data of the SSE frame of the same name, so
// both transports read the same shapes with the same code here; no message text is parsed for a
// reset. Text is read only where the hub has no other channel: a GetHeadOffset refusal and a
// connection it closes (a limit), and there only a leading code the contract knows counts.
import { EventStreamError } from "../EventStreamError.js";
import { isKnownErrorCode, retryOf } from "./errorContract.js";
import type { ResetSignal } from "./TransportSink.js";

/** The `type` of a SignalR stream's final reset item (and the SSE frame's name). @internal */
export const RESET_ITEM_TYPE = "reset";
/** The `type` of a SignalR stream's final error item (and the SSE frame's name). @internal */
export const STREAM_ERROR_ITEM_TYPE = "stream_error";

/** The error for a code the hub sent, retried as the contract says. @internal */
export function hubError(code: string, message: string): EventStreamError {
  return new EventStreamError(code, message, retryOf(code));
}

/** Reads a reset's data (`{"reason","message","offset"}`, the SSE frame's and the SignalR item's payload). @internal */
export function resetFromPayload(body: unknown): ResetSignal {
  const b = (typeof body === "object" && body !== null ? body : {}) as { reason?: unknown; message?: unknown; offset?: unknown };
  if (typeof b.reason !== "string" || typeof b.offset !== "string")
    throw new EventStreamError("invalid_frame", `The hub sent a reset without a reason or an offset: ${JSON.stringify(body)}`, false);
  return { reason: b.reason, message: typeof b.message === "string" ? b.message : "", offset: b.offset };
}

/** Reads a stream error's data (`{"error":{"code","message"}}`). @internal */
export function errorFromPayload(body: unknown, raw: string): EventStreamError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : "stream_error";
  const message = typeof error?.message === "string" ? error.message : raw;
  return hubError(code, message);
}

/** Parses the data of an SSE `reset` frame. @internal */
export function parseResetFrame(data: string): ResetSignal {
  return resetFromPayload(JSON.parse(data));
}

/**
 * The error in an SSE `stream_error` frame: the hub ended the stream for a reason, retried as the
 * contract says. @internal
 */
export function parseStreamErrorFrame(data: string): EventStreamError {
  let body: unknown = null;
  try {
    body = JSON.parse(data);
  } catch {
    // Not JSON: keep the raw text as the message.
  }
  return errorFromPayload(body, data);
}

/**
 * A SignalR stream item that is the stream's final signal: a reset or an error; null for an
 * event. Only streams opened with `signalItems: true` end this way. @internal
 */
export function signalFromItem(item: unknown): { reset: ResetSignal } | { error: EventStreamError } | null {
  if (typeof item !== "object" || item === null) return null;
  const { type, payload } = item as { type?: unknown; payload?: unknown };
  if (type === RESET_ITEM_TYPE) return { reset: resetFromPayload(payload) };
  if (type === STREAM_ERROR_ITEM_TYPE) return { error: errorFromPayload(payload, JSON.stringify(payload)) };
  return null;
}

/**
 * Classifies a SignalR error raised outside a stream's items (a GetHeadOffset refusal, a
 * connection the hub closed): the hub's text after `HubException: ` starts with `code: ` when it
 * has a code; only a code the contract knows counts. @internal
 */
export function fromSignalRError(error: unknown): EventStreamError {
  const message = error instanceof Error ? error.message : String(error);
  const marker = message.lastIndexOf("HubException: ");
  const text = marker >= 0 ? message.slice(marker + "HubException: ".length) : message;
  const colon = text.indexOf(": ");
  if (colon > 0 && isKnownErrorCode(text.slice(0, colon))) return hubError(text.slice(0, colon), text.slice(colon + 2).trim());
  // SignalR's own answer to a call the hub could not bind: the request is malformed.
  if (message.startsWith("Failed to invoke") || message.startsWith("Unknown hub method"))
    return new EventStreamError("request_failed", message, "never");
  return new EventStreamError("transport", message, "with_backoff");
}

/**
 * The error for an HTTP refusal without the hub's JSON body to say more (SignalR's negotiation):
 * 401 is `unauthenticated` (a fresh token may help), 400, 403 and 404 say the URL or the
 * credentials are wrong, anything else is retried with backoff. @internal
 */
export function fromHttpStatus(status: number, message: string): EventStreamError {
  if (status === 401) return hubError("unauthenticated", message);
  if (status === 400 || status === 403 || status === 404) return new EventStreamError(`http_${status}`, message, "never");
  return new EventStreamError(`http_${status}`, message, "with_backoff");
}

/**
 * A 2xx answer that is not the hub's (`expected`: what the client asked for) but a page served
 * where the hub was expected (a url that is not the hub's base address, a dev server's fallback
 * page): retrying would get the same page. @internal
 */
export function unexpectedResponse(url: string, contentType: string, expected: string): EventStreamError {
  return new EventStreamError("unexpected_response", `The answer from ${url} is ${contentType || "without a Content-Type"}, `
    + `not ${expected}: is the url the hub's base address?`, "never");
}

/** Builds the error for a non-2xx SSE response from its `{error: {code, message}}` body. @internal */
export async function fromHttpResponse(response: Response): Promise<EventStreamError> {
  const message = `The hub answered ${response.status} ${response.statusText}.`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string")
      return hubError(body.error.code, typeof body.error.message === "string" ? body.error.message : message);
  } catch {
    // Not JSON: classify by the status.
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 401 && response.status !== 408 && response.status !== 429)
    return new EventStreamError(`http_${response.status}`, message, "never");
  return fromHttpStatus(response.status, message);
}
