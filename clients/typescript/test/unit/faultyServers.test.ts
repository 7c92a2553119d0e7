// How the stream behaves against servers that are not a healthy hub: one that accepts a stream and
// ends it at once (the hub with its database down), a page served where the hub was expected (a
// wrong url, a dev server's fallback page), and a connection that goes silent without a reset (a
// NAT's or proxy's dropped state). The servers are plain node:http servers and a fake transport
// (the EventStream's test seam); the real hub's side of each is in the integration tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { EventStream, EventStreamError } from "../../src/index.js";
import type { StreamRequest } from "../../src/StreamRequest.js";
import type { Transport } from "../../src/transports/Transport.js";
import type { TransportSink } from "../../src/transports/TransportSink.js";
import { waitUntil } from "../support/collect.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves every request with `handle`; resolves to the server's base address. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handle);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

/** The errors of the stream's reconnecting states, as they happen (a live state clears the snapshot's). */
function reconnectErrors(stream: EventStream): Error[] {
  const errors: Error[] = [];
  stream.state.subscribe(() => {
    const s = stream.state.getSnapshot();
    if (s.state === "reconnecting" && s.error !== null && errors.at(-1) !== s.error) errors.push(s.error);
  });
  return errors;
}

/** The failure counts of the stream's reconnecting states, each as it changes. */
function failureCounts(stream: EventStream): number[] {
  const counts: number[] = [];
  stream.state.subscribe(() => {
    const s = stream.state.getSnapshot();
    if (s.state === "reconnecting" && counts.at(-1) !== s.failedAttempts) counts.push(s.failedAttempts);
  });
  return counts;
}

/** Resolves with the error the stream stopped with. */
function stopped(stream: EventStream): Promise<Error | undefined> {
  return new Promise((resolve) => stream.subscribe({ next: () => undefined, error: resolve, complete: () => resolve(undefined) }));
}

const delays = [0, 100, 200, 400];

describe("a stream the server accepts and ends at once", () => {
  it("backs off over SSE: only an event or a stream that ran counts as progress, not the response's headers", async () => {
    let requests = 0;
    const url = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.end();
    });
    const stream = new EventStream({ url, transport: "sse", after: "0", retryDelaysInMilliseconds: delays });
    const errors = reconnectErrors(stream);
    try {
      stream.subscribe(() => undefined);
      // Went live and ended: the delays 0, 100, 200, 400 ms, then 400 again: 5 requests by about 700 ms.
      await waitUntil(() => stream.state.getSnapshot().failedAttempts >= 4, (fn) => stream.state.subscribe(fn), 10_000,
        () => `failedAttempts ${stream.state.getSnapshot().failedAttempts}`);
      const started = performance.now();
      const before = requests;
      await waitUntil(() => requests > before, (fn) => stream.state.subscribe(fn), 10_000, () => "no further attempt");
      // Every attempt "went live" and failed: the counter grows, and so does the wait (it stayed at
      // the first delay, 0 ms, and the client asked hundreds of times a second).
      expect(performance.now() - started).toBeGreaterThanOrEqual(150);
      expect(errors[0]).toMatchObject({ code: "stream_ended" });
    } finally {
      await stream.stop();
    }
  });

  it("backs off over any transport whose stream opens and fails before an event, and starts afresh after one", async () => {
    // The SignalR transport opens as soon as it has asked for the stream: the hub does not acknowledge it.
    let attempts = 0;
    const transport: Transport = {
      async run(_request: StreamRequest, sink: TransportSink): Promise<void> {
        attempts++;
        sink.open();
        // The fourth attempt delivers an event before it fails.
        if (attempts === 4) sink.event({ seq: 1, projectId: "p", type: "session_created", payload: {}, createdAt: new Date(0), offset: "e.1.1" });
        throw new EventStreamError("unavailable", "The event log is unavailable right now.", "with_backoff");
      },
    };
    const stream = new EventStream({ url: "http://unused", after: "0", retryDelaysInMilliseconds: [0, 1, 2] }, transport);
    const failed = failureCounts(stream);
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => failed.length >= 6, (fn) => stream.state.subscribe(fn), 10_000, () => `failed: ${failed.join(", ")}`);
      // Each count picks the next delay; it stayed at 1 (the first delay, 0 ms) while every attempt "went live".
      expect(failed.slice(0, 6)).toEqual([1, 2, 3, 1, 2, 3]);
    } finally {
      await stream.stop();
    }
  });

  it("reconnects at once for an at-once code after progress; a second one in a row backs off", async () => {
    const opens: number[] = [];
    const transport: Transport = {
      async run(_request: StreamRequest, sink: TransportSink): Promise<void> {
        opens.push(performance.now());
        sink.open();
        if (opens.length === 1) sink.event({ seq: 1, projectId: "p", type: "session_created", payload: {}, createdAt: new Date(0), offset: "e.1.1" });
        throw new EventStreamError("server_ended", "The server ended this stream.", "at_once");
      },
    };
    const stream = new EventStream({ url: "http://unused", after: "0", retryDelaysInMilliseconds: [3_000] }, transport);
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => opens.length >= 3, (fn) => stream.state.subscribe(fn), 15_000, () => `${opens.length} attempts`);
      // Bounds far from either outcome: at once is well under the 3 s delay, a backoff at least it.
      expect(opens[1]! - opens[0]!).toBeLessThan(1_500);
      expect(opens[2]! - opens[1]!).toBeGreaterThanOrEqual(2_900);
    } finally {
      await stream.stop();
    }
  });

  it("counts a reset as progress: the failures after it start afresh", async () => {
    let attempts = 0;
    const transport: Transport = {
      async run(_request: StreamRequest, sink: TransportSink): Promise<void> {
        attempts++;
        sink.open();
        if (attempts === 4) { sink.reset({ reason: "offset_pruned", message: "pruned", offset: "e.1.9" }); return; }
        throw new EventStreamError("unavailable", "The event log is unavailable right now.", "with_backoff");
      },
    };
    const stream = new EventStream({ url: "http://unused", after: "0", retryDelaysInMilliseconds: [0, 1, 2] }, transport);
    const failed = failureCounts(stream);
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => failed.length >= 5, (fn) => stream.state.subscribe(fn), 10_000, () => `failed: ${failed.join(", ")}`);
      expect(failed.slice(0, 5)).toEqual([1, 2, 3, 1, 2]);
    } finally {
      await stream.stop();
    }
  });
});

describe("a page where the hub was expected", () => {
  const page = (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<!doctype html><title>app</title>");
  };

  it("stops the SSE stream with unexpected_response after one request, not a retry loop", async () => {
    let requests = 0;
    const url = await serve((req, res) => { requests++; page(req, res); });
    const stream = new EventStream({ url, transport: "sse", sseReader: "fetch", after: "0", retryDelaysInMilliseconds: [0] });
    const error = await stopped(stream);
    expect(error).toBeInstanceOf(EventStreamError);
    expect(error).toMatchObject({ code: "unexpected_response", retry: "never" });
    expect(error!.message).toMatch(/text\/html.*base address/);
    expect(requests).toBe(1);
  });

  it("stops a stream from now with unexpected_response when the head offset is a page", async () => {
    const url = await serve(page);
    const stream = new EventStream({ url, transport: "sse", sseReader: "fetch", retryDelaysInMilliseconds: [0] });
    const error = await stopped(stream);
    expect(error).toMatchObject({ code: "unexpected_response", retry: "never" });
  });

  it("retries a head offset answer that is JSON cut short", async () => {
    let requests = 0;
    const url = await serve((req, res) => {
      requests++;
      if (req.url!.endsWith("/head")) {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end('{"offset":"e.1');
      } else {
        res.writeHead(500).end();
      }
    });
    const stream = new EventStream({ url, transport: "sse", sseReader: "fetch", retryDelaysInMilliseconds: [10] });
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => requests >= 2, (fn) => stream.state.subscribe(fn), 10_000, () => `${requests} requests`);
      expect(stream.state.getSnapshot()).toMatchObject({ state: "reconnecting", error: { code: "transport" } });
    } finally {
      await stream.stop();
    }
  });
});

describe("an SSE connection that goes silent", () => {
  /** An event stream that sends its preamble, then a comment every `keepAliveMs` (0: nothing more), and never ends. */
  async function quietHub(keepAliveMs: number): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    const timers: NodeJS.Timeout[] = [];
    const url = await serve((_req, res) => {
      requests++;
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      res.write("retry: 10\n\n");
      if (keepAliveMs > 0) timers.push(setInterval(() => res.write(": keep-alive\n\n"), keepAliveMs));
      res.on("close", () => timers.forEach(clearInterval));
    });
    return { url, requests: () => requests };
  }

  it("is taken for lost after the idle timeout and reconnected", async () => {
    const hub = await quietHub(0);
    const stream = new EventStream({
      url: hub.url, transport: "sse", sseReader: "fetch", after: "0", retryDelaysInMilliseconds: [0], sseIdleTimeoutInMilliseconds: 300,
    });
    const errors = reconnectErrors(stream);
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => hub.requests() >= 2, (fn) => stream.state.subscribe(fn), 10_000, () => `${hub.requests()} requests`);
      expect(errors[0]).toMatchObject({ code: "transport" });
      expect(errors[0]!.message).toMatch(/Nothing arrived from the hub/);
    } finally {
      await stream.stop();
    }
  });

  it("stays open while the keep-alive comments come", async () => {
    const hub = await quietHub(50);
    const stream = new EventStream({
      url: hub.url, transport: "sse", sseReader: "fetch", after: "0", sseIdleTimeoutInMilliseconds: 300,
    });
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => stream.state.getSnapshot().state === "live", (fn) => stream.state.subscribe(fn), 10_000, () => "not live");
      // Four idle timeouts of comments and no data: a check that ignored comments would have reconnected.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      expect(hub.requests()).toBe(1);
      expect(stream.state.getSnapshot()).toMatchObject({ state: "live", failedAttempts: 0 });
    } finally {
      await stream.stop();
    }
  });
});

describe("a hub that accepts the connection and never answers (hung, or another service on its port)", () => {
  it("fails each SignalR attempt after the connect timeout instead of SignalR's 100 s, and retries", async () => {
    let requests = 0;
    const url = await serve(() => { requests++; }); // reads the request, never answers
    const stream = new EventStream({ url, after: "0", retryDelaysInMilliseconds: [0], connectTimeoutInMilliseconds: 300 });
    const errors = reconnectErrors(stream);
    try {
      stream.subscribe(() => undefined);
      await waitUntil(() => requests >= 2 && errors.length > 0, (fn) => stream.state.subscribe(fn), 10_000, () => `${requests} requests`);
      expect(errors[0]).toMatchObject({ code: "transport" });
      expect(errors[0]!.message).toBe("Could not connect to the SignalR hub: it did not answer within 0.3 s.");
    } finally {
      await stream.stop();
    }
  });
});
