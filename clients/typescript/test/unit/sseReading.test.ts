// The client's reading of Server-Sent Events over eventsource-parser: the parsing is the
// library's, so these tests check what the client relies on from it and what the adapter adds
// (the EventSource meaning of `type` and `lastEventId`, retry hints, comments, errors from a
// handler, byte chunks split anywhere), not every rule of the spec.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { SseMessage } from "../../src/sse/SseMessage.js";
import { createSseParser, readFetchEventStream } from "../../src/sse/readFetchEventStream.js";

function parse(chunks: string[]): { messages: SseMessage[]; retries: number[]; comments: string[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createSseParser({ message: (m) => messages.push(m), retry: (r) => retries.push(r), comment: (c) => comments.push(c) });
  for (const c of chunks) parser.feed(c);
  return { messages, retries, comments };
}

describe("SSE parsing (eventsource-parser, as the client uses it)", () => {
  it("parses the hub's frames: id, event and data, then a blank line", () => {
    const { messages } = parse(["id: e.1.2\nevent: pr_updated\ndata: {\"a\":1}\n\n"]);
    expect(messages).toEqual([{ type: "pr_updated", data: "{\"a\":1}", lastEventId: "e.1.2" }]);
  });

  it("joins multi-line data with newlines", () => {
    const { messages } = parse(["data: one\ndata:two\ndata\ndata:  four\n\n"]);
    expect(messages[0]!.data).toBe("one\ntwo\n\n four");
  });

  it("reports comments and retry hints and dispatches nothing for them", () => {
    const { messages, retries, comments } = parse(["retry: 2000\n: connected\n\n: keep-alive\n\nretry: 1.5\nretry: x\n\n"]);
    expect(messages).toEqual([]);
    expect(retries).toEqual([2000]);
    expect(comments).toEqual(["connected", "keep-alive"]);
  });

  it("handles CRLF and CR line endings, even split across chunks", () => {
    // A CR at the very end of a chunk waits for the next one (it may be half of a CRLF), so the
    // last message here is completed by the chunk after it.
    const { messages } = parse(["data: a\r", "\ndata: b\r\r", "\n", "data: c\rdata: d\r\r", "data: e\n\n"]);
    expect(messages.map((m) => m.data)).toEqual(["a\nb", "c\nd", "e"]);
  });

  it("handles frames split at every character", () => {
    const text = "id: 1\nevent: x\ndata: {\"k\":\"v\"}\n\nid: 2\ndata: y\n\n";
    const { messages } = parse([...text]);
    expect(messages).toEqual([
      { type: "x", data: "{\"k\":\"v\"}", lastEventId: "1" },
      { type: "message", data: "y", lastEventId: "2" },
    ]);
  });

  it("keeps the last id across messages, as EventSource does, and ignores ids with NUL", () => {
    const { messages } = parse(["id: 7\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\n"]);
    expect(messages.map((m) => m.lastEventId)).toEqual(["7", "7", "7"]);
  });

  it("resets the event type after each message and ignores unknown fields", () => {
    const { messages } = parse(["event: a\nfoo: bar\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n"]);
    expect(messages.map((m) => m.type)).toEqual(["a", "message", "message"]);
  });

  it("lets a handler's error propagate (the stream fails the connection with it)", () => {
    const parser = createSseParser({ message: () => { throw new Error("bad frame"); } });
    expect(() => parser.feed("data: x\n\n")).toThrow("bad frame");
  });
});

describe("readFetchEventStream", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** Serves `body` as an event stream, one byte per write, so every character boundary is a chunk boundary. */
  async function serve(body: Uint8Array): Promise<string> {
    server = createServer(async (_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      for (const b of body) {
        res.write(new Uint8Array([b]));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
  }

  it("strips a BOM, keeps multi-byte characters whole and drops an unfinished message at the end", async () => {
    const url = await serve(new TextEncoder().encode("\uFEFFretry: 1500\n: keep-alive\n\nid: 3\ndata: café ✓\n\ndata: cut off"));
    const messages: SseMessage[] = [];
    const retries: number[] = [];
    let opened = false;
    await readFetchEventStream(url, {}, { message: (m) => messages.push(m), retry: (r) => retries.push(r) },
      () => { opened = true; }, new AbortController().signal);
    expect(opened).toBe(true);
    expect(retries).toEqual([1500]);
    expect(messages).toEqual([{ type: "message", data: "café ✓", lastEventId: "3" }]);
  });
});
