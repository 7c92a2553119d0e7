// A repeated event is dropped but made visible: counted in the connection state and warned about
// once. A fake transport (the EventStream's test seam) delivers the repeat, so this needs no hub.
import { afterEach, describe, expect, it, vi } from "vitest";
import { EventStream, type EventHubEvent, type StreamItem } from "../../src/index.js";
import type { StreamRequest } from "../../src/StreamRequest.js";
import type { Transport } from "../../src/transports/Transport.js";
import type { TransportSink } from "../../src/transports/TransportSink.js";

const frame = (seq: number) => ({ seq, projectId: "p", type: "session_created", payload: {}, createdAt: new Date(0), offset: `e.1.${seq}` });

/** One connection that delivers `seqs` in order, then stays open until the stream stops. */
class ScriptedTransport implements Transport {
  constructor(private readonly seqs: number[]) {}

  run(_request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    sink.open();
    for (const seq of this.seqs) sink.event(frame(seq));
    return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
  }
}

afterEach(() => vi.restoreAllMocks());

describe("duplicates", () => {
  it("are delivered once, counted in the connection state and warned about once", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const stream = new EventStream({ url: "http://unused", after: "0" }, new ScriptedTransport([1, 2, 2, 3, 1, 3]));
    const items: StreamItem[] = [];
    stream.subscribe((item) => items.push(item));
    try {
      expect(items.map((e) => (e as EventHubEvent).seq)).toEqual([1, 2, 3]);
      expect(stream.state.getSnapshot()).toMatchObject({ state: "live", duplicates: 3, offset: "e.1.3" });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/seq 2 .*second time/);
    } finally {
      await stream.stop();
    }
  });

  it("are 0 when every seq arrives once, with no warning", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const stream = new EventStream({ url: "http://unused", after: "0" }, new ScriptedTransport([1, 2, 3]));
    const seqs: number[] = [];
    stream.subscribe((item) => seqs.push((item as EventHubEvent).seq));
    try {
      expect(seqs).toEqual([1, 2, 3]);
      expect(stream.state.getSnapshot().duplicates).toBe(0);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await stream.stop();
    }
  });
});
