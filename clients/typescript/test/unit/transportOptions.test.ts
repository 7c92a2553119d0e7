// The transport and protocol options: a combination the client cannot honour is an error at
// construction, like the other invalid options, not a stream in another format than asked for.
import { describe, expect, it } from "vitest";
import { EventStream, LiveStateStore } from "../../src/index.js";

describe("transport and protocol options", () => {
  it("refuses MessagePack over SSE (SSE streams JSON only)", () => {
    expect(() => new EventStream({ url: "http://unused", transport: "sse", protocol: "msgpack" }))
      .toThrow(/protocol "msgpack" needs transport "signalr"; SSE streams JSON only/);
    expect(() => new LiveStateStore({ url: "http://unused", transport: "sse", protocol: "msgpack" }))
      .toThrow(/protocol "msgpack" needs transport "signalr"; SSE streams JSON only/);
  });

  it("refuses an unknown transport or protocol", () => {
    const options = (o: object) => ({ url: "http://unused", ...o }) as never;
    expect(() => new EventStream(options({ transport: "websocket" }))).toThrow(/transport is "websocket"; it must be "signalr" or "sse"/);
    expect(() => new EventStream(options({ protocol: "xml" }))).toThrow(/protocol is "xml"; it must be "json" or "msgpack"/);
  });

  it("accepts every combination the client supports", () => {
    for (const o of [{}, { transport: "sse" }, { transport: "sse", protocol: "json" }, { transport: "signalr" },
      { protocol: "msgpack" }, { transport: "signalr", protocol: "json" }, { transport: "signalr", protocol: "msgpack" }] as const) {
      expect(() => new EventStream({ url: "http://unused", ...o })).not.toThrow();
      expect(() => new LiveStateStore({ url: "http://unused", ...o })).not.toThrow();
    }
  });
});
