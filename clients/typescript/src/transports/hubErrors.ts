import { EventStreamError } from "../EventStreamError.js";
import type { ResetSignal } from "./TransportSink.js";

// The codes of the hub's StreamRequestException: the request itself is wrong, so the same
// request will fail again. Anything else (server stopping, network) is worth a retry.
const FATAL_CODES = new Set([
  "invalid_offset", "offset_from_another_log", "offset_out_of_range", "invalid_project",
  "invalid_type", "too_many_projects", "too_many_types", "missing_request",
]);

/** Whether the hub's error code means "the request is wrong, do not retry". @internal */
export function isFatalCode(code: string): boolean {
  return FATAL_CODES.has(code);
}

/**
 * The reset signal in a SignalR stream error: the hub ends the stream with
 * `"...HubException: reset: <reason>: <message> Continue from offset <offset>."`. @internal
 */
export function parseResetError(error: unknown): ResetSignal | null {
  const message = error instanceof Error ? error.message : String(error);
  const match = /(?:^|HubException: )reset: ([a-z][a-z0-9_]*): ([\s\S]*?)\s*Continue from offset (\S+?)\.?\s*$/.exec(message);
  if (match === null) return null;
  return { reason: match[1]!, message: match[2]!, offset: match[3]! };
}

/** Parses the data of an SSE `reset` frame (`{"reason","message","offset"}`). @internal */
export function parseResetFrame(data: string): ResetSignal {
  const body = JSON.parse(data) as Partial<ResetSignal>;
  if (typeof body.reason !== "string" || typeof body.offset !== "string")
    throw new EventStreamError("invalid_frame", `The hub sent a reset frame without a reason or an offset: ${data}`, false);
  return { reason: body.reason, message: typeof body.message === "string" ? body.message : "", offset: body.offset };
}

/**
 * Classifies a SignalR stream error by the code at the start of the hub's message
 * (`"...HubException: invalid_offset: ..."`). @internal
 */
export function fromSignalRError(error: unknown): EventStreamError {
  const message = error instanceof Error ? error.message : String(error);
  const match = /\b([a-z]+(?:_[a-z]+)+): /.exec(message);
  const code = match?.[1];
  if (code !== undefined && isFatalCode(code)) return new EventStreamError(code, message, false);
  return new EventStreamError("transport", message, true);
}

/** Builds the error for a non-2xx SSE response from its `{error: {code, message}}` body. @internal */
export async function fromHttpResponse(response: Response): Promise<EventStreamError> {
  let code = `http_${response.status}`;
  let message = `The hub answered ${response.status} ${response.statusText}.`;
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not JSON: keep the status.
  }
  const clientError = response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429;
  return new EventStreamError(code, message, !(clientError || isFatalCode(code)));
}

/**
 * The error in an SSE `stream_error` frame (`{"error":{"code","message"}}`): the hub ended the
 * stream for a reason. Retryable unless the code says the request itself is wrong. @internal
 */
export function parseStreamErrorFrame(data: string): EventStreamError {
  let code = "stream_error";
  let message = data;
  try {
    const body = JSON.parse(data) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === "string") code = body.error.code;
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not JSON: keep the raw text as the message.
  }
  return new EventStreamError(code, message, !isFatalCode(code));
}
