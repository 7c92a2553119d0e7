import { describe, expect, it } from "vitest";
import { SseParser, type SseMessage } from "../../src/index.js";

function parse(chunks: string[]): { messages: SseMessage[]; retries: number[]; comments: string[] } {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = new SseParser({ message: (m) => messages.push(m), retry: (r) => retries.push(r), comment: (c) => comments.push(c) });
  for (const c of chunks) parser.push(c);
  return { messages, retries, comments };
}

describe("SseParser", () => {
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
    const { messages } = parse(["data: a\r", "\ndata: b\r\r", "\n", "data: c\rdata: d\r\r"]);
    expect(messages.map((m) => m.data)).toEqual(["a\nb", "c\nd"]);
  });

  it("handles frames split at every character", () => {
    const text = "id: 1\nevent: x\ndata: {\"k\":\"v\"}\n\nid: 2\ndata: y\n\n";
    const { messages } = parse([...text]);
    expect(messages).toEqual([
      { type: "x", data: "{\"k\":\"v\"}", lastEventId: "1" },
      { type: "message", data: "y", lastEventId: "2" },
    ]);
  });

  it("strips a leading BOM, keeps the last id across messages and ignores ids with NUL", () => {
    const { messages } = parse(["\uFEFFid: 7\ndata: a\n\ndata: b\n\nid: bad\0id\ndata: c\n\n"]);
    expect(messages.map((m) => m.lastEventId)).toEqual(["7", "7", "7"]);
  });

  it("resets the event type after each message and ignores unknown fields", () => {
    const { messages } = parse(["event: a\nfoo: bar\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n"]);
    expect(messages.map((m) => m.type)).toEqual(["a", "message", "message"]);
  });

  it("drops an unfinished message at the end of the stream", () => {
    const { messages } = parse(["data: complete\n\ndata: cut off"]);
    expect(messages.map((m) => m.data)).toEqual(["complete"]);
  });

  it("keeps multi-byte characters whole when chunks are decoded with stream: true", () => {
    const bytes = new TextEncoder().encode("data: café ✓\n\n");
    const decoder = new TextDecoder();
    const chunks = [...bytes].map((b) => decoder.decode(new Uint8Array([b]), { stream: true }));
    expect(parse(chunks).messages[0]!.data).toBe("café ✓");
  });
});
