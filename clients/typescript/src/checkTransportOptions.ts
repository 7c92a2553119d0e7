import type { EventStreamOptions } from "./EventStreamOptions.js";

/**
 * Throws for a `transport` or `protocol` the client does not have, and for MessagePack over SSE
 * (the SSE endpoint streams JSON only): such options would otherwise stream something else than
 * asked for, silently. @internal
 */
export function checkTransportOptions(options: Pick<EventStreamOptions, "transport" | "protocol">): void {
  const { transport, protocol } = options;
  if (transport !== undefined && transport !== "signalr" && transport !== "sse") {
    throw new TypeError(`transport is ${JSON.stringify(transport)}; it must be "signalr" or "sse".`);
  }
  if (protocol !== undefined && protocol !== "json" && protocol !== "msgpack") {
    throw new TypeError(`protocol is ${JSON.stringify(protocol)}; it must be "json" or "msgpack".`);
  }
  if (transport === "sse" && protocol === "msgpack") {
    throw new TypeError('protocol "msgpack" needs transport "signalr"; SSE streams JSON only (leave protocol out, or use "json").');
  }
}
