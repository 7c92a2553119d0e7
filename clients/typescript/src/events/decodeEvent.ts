// One decoder for every transport. SSE and SignalR JSON carry createdAt as an ISO string and
// the payload as an object; SignalR MessagePack carries createdAt as a timestamp extension
// (a Date once decoded) and the payload as a map (a plain object), and may hand seq over as a
// bigint. All of them end up as the same EventHubEvent.
import { EventDecodeError } from "./EventDecodeError.js";
import type { EventHubEvent } from "./EventHubEvent.js";

/**
 * Turns one event as a transport decoded it (a parsed JSON object or a MessagePack map) into an
 * {@link EventHubEvent}. Unknown types pass through, and so does a payload that is not an object
 * (as it came); a frame that lacks the contract's fields throws {@link EventDecodeError}.
 */
export function decodeEvent(frame: unknown): EventHubEvent {
  if (typeof frame !== "object" || frame === null) throw new EventDecodeError("An event must be an object.", frame);
  const raw = frame as Record<string, unknown>;

  const seq = typeof raw.seq === "bigint" ? Number(raw.seq) : raw.seq;
  if (typeof seq !== "number" || !Number.isFinite(seq)) throw new EventDecodeError("An event needs a numeric 'seq'.", frame);
  if (typeof raw.projectId !== "string") throw new EventDecodeError("An event needs a string 'projectId'.", frame);
  if (typeof raw.type !== "string" || raw.type === "") throw new EventDecodeError("An event needs a string 'type'.", frame);
  if (typeof raw.offset !== "string" || raw.offset === "") throw new EventDecodeError("An event needs a string 'offset' to resume from.", frame);
  const sessionId = raw.sessionId ?? null;
  if (sessionId !== null && typeof sessionId !== "string") throw new EventDecodeError("'sessionId' must be a string or null.", frame);

  let payload = raw.payload;
  if (typeof payload === "string") payload = parsedObjectOr(payload); // tolerated: a payload sent as JSON text
  if (payload instanceof Map) payload = Object.fromEntries(payload);
  // A payload that is not an object breaks the contract, but it is a row of the log: throwing here
  // stopped the stream at that row on every resume, for good. It passes through as it came (the
  // .NET client does the same); typed accessors of a known type then find no fields.

  const createdAt = raw.createdAt instanceof Date ? raw.createdAt : new Date(raw.createdAt as string);
  if (Number.isNaN(createdAt.getTime())) throw new EventDecodeError("An event needs a valid 'createdAt'.", frame);

  return {
    seq,
    projectId: raw.projectId,
    sessionId,
    type: raw.type,
    payload: payload as Record<string, unknown>,
    createdAt,
    offset: raw.offset,
  } as EventHubEvent;
}

/** The object a JSON text holds, or the text itself when it holds anything else (or is not JSON). */
function parsedObjectOr(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}
