import type { EventStreamOptions } from "../../src/index.js";

/** Every transport and protocol the client offers, for describe.each. */
export const allTransports: Array<[string, Partial<EventStreamOptions>]> = [
  ["SSE", { transport: "sse" }],
  ["SignalR JSON", { transport: "signalr", protocol: "json" }],
  ["SignalR MessagePack", { transport: "signalr", protocol: "msgpack" }],
];
