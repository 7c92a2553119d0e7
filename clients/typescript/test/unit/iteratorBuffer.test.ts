// A `for await` loop slower than its stream holds at most maxBufferedEvents unread events: the
// stream pauses (ends its connection attempt) when the loop's buffer is full, and reconnects
// after the last event delivered once the loop has read half of it. A fake transport (the
// EventStream's test seam) plays a log of `total` events, so this needs no hub; the real
// transports are covered by test/integration/slowConsumer.test.ts.
import { describe, expect, it } from "vitest";
import { EventStream, type EventHubEvent, type StreamItem } from "../../src/index.js";
import type { StreamRequest } from "../../src/StreamRequest.js";
import type { Transport } from "../../src/transports/Transport.js";
import type { TransportSink } from "../../src/transports/TransportSink.js";

const frame = (seq: number) => ({ seq, projectId: "p", type: "session_created", payload: {}, createdAt: new Date(0), offset: `e.1.${seq}` });
const seqOf = (item: StreamItem) => (item as EventHubEvent).seq;

/**
 * Each connection sends every event after the request's offset at once, as a catch-up does, and
 * goes on sending after its signal aborts (what is in flight when a stream is cancelled): the
 * stream must drop those. Then it stays open until aborted.
 */
class LogTransport implements Transport {
  readonly afters: Array<string | null> = [];
  constructor(private readonly total: number) {}

  run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    this.afters.push(request.after);
    sink.open();
    const from = request.after === "0" ? 1 : Number(request.after!.split(".")[2]) + 1;
    for (let seq = from; seq <= this.total; seq++) sink.event(frame(seq));
    return new Promise((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }
}

describe("the async iterator's buffer", () => {
  it("holds at most maxBufferedEvents: the stream pauses, resumes after the last event delivered, and every event arrives once in order", async () => {
    const transport = new LogTransport(1_000);
    const stream = new EventStream({ url: "http://unused", after: "0", maxBufferedEvents: 100 }, transport);
    let read = 0;
    let mostUnread = 0;
    let pauses = 0;
    let wasPaused = false;
    // The state's offset moves with each event delivered (seq N at e.1.N): N - read is what the loop holds.
    stream.state.subscribe(() => {
      const { offset, paused } = stream.state.getSnapshot();
      if (offset!.startsWith("e.1.")) mostUnread = Math.max(mostUnread, Number(offset!.split(".")[2]) - read);
      if (paused && !wasPaused) pauses++;
      wasPaused = paused;
    });
    const seqs: number[] = [];
    try {
      for await (const item of stream) {
        read++;
        seqs.push(seqOf(item));
        if (seqs.length === 1) expect(stream.state.getSnapshot()).toMatchObject({ paused: true, state: "live" });
        if (seqs.length === 1_000) break;
      }
    } finally {
      await stream.stop();
    }

    expect(seqs).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(mostUnread).toBeLessThanOrEqual(100 + 1); // + the one handed to the loop whose body has not counted it yet
    expect(stream.state.getSnapshot().duplicates).toBe(0);
    // First from the start, then each pause resumes after the last event delivered: the 100th,
    // then 50 and a few more each time (the loop read half, and a little while it reconnected).
    expect(transport.afters.slice(0, 2)).toEqual(["0", "e.1.100"]);
    const resumedAfter = transport.afters.slice(1).map((a) => Number(a!.split(".")[2]));
    for (let i = 1; i < resumedAfter.length; i++) expect(resumedAfter[i]! - resumedAfter[i - 1]!).toBeGreaterThanOrEqual(50);
    expect(pauses).toBe(transport.afters.length - 1);
    expect(pauses).toBeGreaterThan(10);
  });

  it("that leaves (break) releases the pause for the other consumers", async () => {
    const transport = new LogTransport(300);
    const stream = new EventStream({ url: "http://unused", after: "0", maxBufferedEvents: 50 }, transport);
    const loop = stream[Symbol.asyncIterator](); // it starts the stream, and its buffer fills at once
    expect(stream.state.getSnapshot().paused).toBe(true);
    const seen: number[] = [];
    let all!: () => void;
    const gotAll = new Promise<void>((resolve) => { all = resolve; });
    stream.subscribe((item) => { seen.push(seqOf(item)); if (seen.at(-1) === 300) all(); });
    try {
      await loop.return!();
      await gotAll; // the stream reconnected without the loop reading anything
      expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i + 51));
      expect(stream.state.getSnapshot().paused).toBe(false);
    } finally {
      await stream.stop();
    }
  });

  it("of a paused stream ends when the stream is stopped", async () => {
    const stream = new EventStream({ url: "http://unused", after: "0", maxBufferedEvents: 10 }, new LogTransport(100));
    const loop = stream[Symbol.asyncIterator]();
    expect(stream.state.getSnapshot().paused).toBe(true);
    await stream.stop();
    const rest: number[] = [];
    for (let r = await loop.next(); !r.done; r = await loop.next()) rest.push(seqOf(r.value));
    expect(rest).toEqual(Array.from({ length: 10 }, (_, i) => i + 1)); // what it held, then the end
    expect(stream.state.getSnapshot()).toMatchObject({ state: "stopped", paused: false });
  });

  it("must be at least 1", () => {
    expect(() => new EventStream({ url: "http://unused", maxBufferedEvents: 0 })).toThrow(/maxBufferedEvents is 0; it must be a whole number of at least 1/);
  });
});
