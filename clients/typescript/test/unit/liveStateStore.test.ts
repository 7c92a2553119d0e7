// The live state store over a scripted transport (the store's test seam): what it loads, how it
// keys streamed events, and what it does on a reconnect (resume, no reload) and on a reset (reload,
// then stream after the new state's offset). No hub: the transport is a script the test drives.
import { describe, expect, it, vi } from "vitest";
import { EventStreamError, LiveStateStore, liveEntityId, type LiveStateSnapshot } from "../../src/index.js";
import type { StateLoader, StateRequest } from "../../src/transports/StateLoader.js";
import type { StreamRequest } from "../../src/StreamRequest.js";
import type { Transport } from "../../src/transports/Transport.js";
import type { TransportSink } from "../../src/transports/TransportSink.js";

const KEYS = {
  session_created: { kind: "session", fields: ["id"] }, session_updated: { kind: "session", fields: ["id"] },
  pr_created: { kind: "pr", fields: ["url"] }, pr_updated: { kind: "pr", fields: ["url"] }, pr_session_changed: { kind: "pr", fields: ["url"] },
  pr_check_recorded: { kind: "check", fields: ["pr", "name", "commit"] },
  pr_review_thread_added: { kind: "thread", fields: ["pr", "thread"] }, pr_review_thread_resolved: { kind: "thread", fields: ["pr", "thread"] },
  tracker_updated: { kind: "tracker", fields: ["issue"] },
};

let seq = 0;
const ev = (type: string, payload: Record<string, unknown>, projectId = "ao") => {
  seq++;
  return { seq, projectId, sessionId: null, type, payload, createdAt: new Date(0).toISOString(), offset: `o.${seq}` };
};

/** One connection the test drives: push events, end it with a reset or a drop. */
interface Connection {
  readonly after: string | null;
  readonly sink: TransportSink;
  readonly aborted: () => boolean;
  end(error?: Error): void;
}

/** A scripted hub: state answers in order, and connections the test drives. */
class ScriptedTransport implements Transport, StateLoader {
  readonly loads: StateRequest[] = [];
  readonly connections: Connection[] = [];
  constructor(readonly states: unknown[]) {}

  async loadState(request: StateRequest): Promise<unknown> {
    this.loads.push(request);
    const next = this.states.shift();
    if (next === undefined) throw new Error("the script has no more states");
    if (next instanceof Error) throw next;
    return next;
  }

  run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const connection: Connection = {
        after: request.after, sink, aborted: () => signal.aborted,
        end: (error) => (error ? reject(error) : resolve()),
      };
      signal.addEventListener("abort", () => resolve());
      sink.open();
      this.connections.push(connection);
    });
  }

  /** The newest connection, once it is open. */
  async connection(count: number): Promise<Connection> {
    await vi.waitFor(() => expect(this.connections.length).toBeGreaterThanOrEqual(count), { timeout: 5_000 });
    return this.connections[count - 1]!;
  }
}

const seqs = (m: ReadonlyMap<string, { event: { seq: number } }>) => Object.fromEntries([...m].map(([k, v]) => [k, v.event.seq]));

describe("the live state store", () => {
  it("loads the state, then applies each streamed event to the entity its type's key names, latest wins", async () => {
    const s1 = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    const pr = ev("pr_created", { url: "https://g/x/pull/1", session: "ao-1", state: "open", ci: "pending", review: "none", mergeability: "unknown" });
    // The hub's key text may escape or space differently from JSON.stringify: ids are rebuilt from the values.
    const check = ev("pr_check_recorded", { pr: "https://g/x/pull/1", name: "b\u00e9ld", commit: "c1", status: "queued" });
    const transport = new ScriptedTransport([{
      offset: "o.3",
      entities: [
        { kind: "session", key: '["ao-1"]', event: s1 },
        { kind: "pr", key: ["https://g/x/pull/1"], event: pr },
        { kind: "check", key: '["https://g/x/pull/1", "b\\u00e9ld", "c1"]', event: check },
      ],
      unkeyedTypes: ["tracker_created"],
      entityKeys: KEYS,
    }]);
    const store = new LiveStateStore({ url: "http://unused", projects: ["ao"], types: [], notifyIntervalInMilliseconds: 0 }, transport);
    await store.start();
    try {
      expect(transport.loads).toEqual([{ projects: ["ao"], types: [] }]);
      let snap = store.getSnapshot();
      expect(snap).toMatchObject({ offset: "o.3", loads: 1, unkeyedTypes: ["tracker_created"] });
      expect([...snap.sessions.keys()]).toEqual([liveEntityId("ao", "ao-1")]);
      expect(snap.checks.get(liveEntityId("ao", "https://g/x/pull/1", "b\u00e9ld", "c1"))?.event.seq).toBe(check.seq);

      const c = await transport.connection(1);
      expect(c.after).toBe("o.3"); // streams after the state's offset
      const passed = ev("pr_check_recorded", { ...check.payload, status: "passed" });
      const thread = ev("pr_review_thread_added", { pr: "https://g/x/pull/1", thread: "t1", path: "a", line: 1, resolved: false, isBot: false });
      const resolved = ev("pr_review_thread_resolved", { pr: "https://g/x/pull/1", thread: "t1", path: "a", line: 1, resolved: true });
      const tracker = ev("tracker_updated", { issue: "I-1", state: "open" });
      const other = ev("tracker_created", { issue: "I-2" });
      const later = ev("brand_new_type", { x: 1 });
      const s2 = ev("session_created", { id: "bo-1", activity: "idle", isTerminated: false }, "bo");
      for (const e of [passed, thread, resolved, tracker, other, later, s2]) c.sink.event(e);

      snap = store.getSnapshot();
      expect(snap.offset).toBe(s2.offset);
      expect(seqs(snap.checks)).toEqual({ [liveEntityId("ao", "https://g/x/pull/1", "b\u00e9ld", "c1")]: passed.seq });
      expect(snap.threads.get(liveEntityId("ao", "https://g/x/pull/1", "t1"))?.event).toMatchObject({ type: "pr_review_thread_resolved", payload: { resolved: true } });
      expect(store.get("tracker", "ao", "I-1")?.event.seq).toBe(tracker.seq); // a configured kind, by generic access
      expect(snap.kinds.get("tracker")).toBe(store.entities("tracker"));
      expect(snap.unkeyedTypes).toEqual(["brand_new_type", "tracker_created"]);
      expect(seqs(snap.sessions)).toEqual({ [liveEntityId("ao", "ao-1")]: s1.seq, [liveEntityId("bo", "bo-1")]: s2.seq });
      expect(snap.prs.get(liveEntityId("ao", "https://g/x/pull/1"))?.keyValues).toEqual(["https://g/x/pull/1"]);
    } finally {
      await store.stop();
    }
    expect(store.getSnapshot().status).toBe("stopped");
  });

  it("keeps an entity's newest event by seq when an older one arrives after it (one tick, xid order)", async () => {
    const s1 = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    const transport = new ScriptedTransport([{ offset: s1.offset, entities: [{ kind: "session", key: '["ao-1"]', event: s1 }], unkeyedTypes: [], entityKeys: KEYS }]);
    const store = new LiveStateStore({ url: "http://unused", notifyIntervalInMilliseconds: 0 }, transport);
    await store.start();
    try {
      const c = await transport.connection(1);
      // Two transactions that change ao-1 and commit in one tick reach the stream in xid order:
      // the one committed second (the higher seq) can come first.
      const idle = ev("session_updated", { id: "ao-1", activity: "idle", isTerminated: false, previewUrl: null, previewRevision: 0 });
      const exited = ev("session_updated", { id: "ao-1", activity: "exited", isTerminated: false, previewUrl: null, previewRevision: 0 });
      c.sink.event(exited);
      c.sink.event(idle);
      const snap = store.getSnapshot();
      expect(snap.sessions.get(liveEntityId("ao", "ao-1"))?.event.payload).toMatchObject({ activity: "exited" });
      expect(snap.offset).toBe(idle.offset); // the offset moves past it all the same
    } finally {
      await store.stop();
    }
  });

  it("reads the SignalR MessagePack shape (maps, Dates) like the JSON one", async () => {
    const s1 = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    const packed = new Map<string, unknown>([
      ["offset", "o.9"],
      ["entities", [new Map<string, unknown>([["kind", "session"], ["key", '["ao-1"]'],
        ["event", { ...s1, createdAt: new Date(0), payload: new Map(Object.entries(s1.payload)) }]])]],
      ["unkeyedTypes", []],
      ["entityKeys", new Map(Object.entries(KEYS).map(([t, k]) => [t, new Map<string, unknown>(Object.entries(k))]))],
    ]);
    const transport = new ScriptedTransport([packed]);
    const store = new LiveStateStore({ url: "http://unused", notifyIntervalInMilliseconds: 0 }, transport);
    await store.start();
    try {
      expect(store.getSnapshot().sessions.get(liveEntityId("ao", "ao-1"))?.event).toMatchObject({ seq: s1.seq, payload: { activity: "active" } });
      const c = await transport.connection(1);
      c.sink.event(ev("session_updated", { id: "ao-1", activity: "idle", isTerminated: false, previewUrl: null, previewRevision: 0 }));
      expect(store.getSnapshot().sessions.get(liveEntityId("ao", "ao-1"))?.event.type).toBe("session_updated");
    } finally {
      await store.stop();
    }
  });

  it("after a dropped connection resumes after the last event applied, without reloading the state", async () => {
    const transport = new ScriptedTransport([{ offset: "o.start", entities: [], unkeyedTypes: [], entityKeys: KEYS }]);
    const store = new LiveStateStore({ url: "http://unused", retryDelaysInMilliseconds: [0], notifyIntervalInMilliseconds: 0 }, transport);
    await store.start();
    try {
      const first = await transport.connection(1);
      const e1 = ev("session_created", { id: "ao-7", activity: "active", isTerminated: false });
      first.sink.event(e1);
      first.end(new EventStreamError("transport", "dropped", true));
      const second = await transport.connection(2);
      expect(second.after).toBe(e1.offset);
      const e2 = ev("session_updated", { id: "ao-7", activity: "blocked", isTerminated: false, previewUrl: null, previewRevision: 0 });
      second.sink.event(e2);
      expect(store.getSnapshot()).toMatchObject({ loads: 1, offset: e2.offset, status: "live" });
      expect(transport.loads).toHaveLength(1);
      expect(store.getSnapshot().sessions.get(liveEntityId("ao", "ao-7"))?.event.seq).toBe(e2.seq);
    } finally {
      await store.stop();
    }
  });

  it("on a reset reloads the state by itself and streams after the new state's offset, applying nothing the old connection sent after the reset", async () => {
    const a = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    const b = ev("session_created", { id: "ao-2", activity: "active", isTerminated: false });
    const transport = new ScriptedTransport([
      { offset: "o.first", entities: [{ kind: "session", key: '["ao-1"]', event: a }], unkeyedTypes: [], entityKeys: KEYS },
      { offset: "o.second", entities: [{ kind: "session", key: '["ao-2"]', event: b }], unkeyedTypes: [], entityKeys: KEYS },
    ]);
    const store = new LiveStateStore({ url: "http://unused", projects: ["ao"], retryDelaysInMilliseconds: [0], notifyIntervalInMilliseconds: 0 }, transport);
    const snapshots: LiveStateSnapshot[] = [];
    store.subscribe(() => snapshots.push(store.getSnapshot()));
    await store.start();
    try {
      const first = await transport.connection(1);
      first.sink.reset({ reason: "offset_pruned", message: "pruned", offset: "o.reset" });
      first.end();
      const second = await transport.connection(2);
      expect(second.after).toBe("o.second"); // the reloaded state's offset, not the reset's
      expect(transport.loads).toHaveLength(2);
      const snap = store.getSnapshot();
      expect(snap).toMatchObject({ loads: 2, offset: "o.second", lastReset: { reason: "offset_pruned", offset: "o.reset" } });
      expect([...snap.sessions.keys()]).toEqual([liveEntityId("ao", "ao-2")]); // the old state's entities are gone
      // Between the reset and the new state, the old entities stayed (no empty flash).
      expect(snapshots.filter((s) => s.sessions.size === 0 && s.loads > 0)).toEqual([]);
    } finally {
      await store.stop();
    }
  });

  it("batches notifications: a burst is one snapshot, and kinds that did not change keep their map", async () => {
    const s = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    const transport = new ScriptedTransport([{ offset: "o.0", entities: [{ kind: "session", key: '["ao-1"]', event: s }], unkeyedTypes: [], entityKeys: KEYS }]);
    const store = new LiveStateStore({ url: "http://unused", notifyIntervalInMilliseconds: 60_000 }, transport);
    await store.start();
    try {
      const c = await transport.connection(1);
      const before = store.getSnapshot();
      let notified = 0;
      store.subscribe(() => notified++);
      for (let i = 0; i < 100; i++) c.sink.event(ev("pr_check_recorded", { pr: "u", name: `n${i}`, commit: "c", status: "queued" }));
      expect(store.getSnapshot()).toBe(before); // nothing published until the interval (or flush)
      expect(notified).toBe(0);
      store.flush();
      expect(notified).toBe(1);
      const after = store.getSnapshot();
      expect(after.checks.size).toBe(100);
      expect(after.sessions).toBe(before.sessions);
      expect(after.offset).toBe(store.offset);
    } finally {
      await store.stop();
    }
  });

  it("retries a state load that failed for a transient reason, and stops on one retrying cannot fix", async () => {
    const ok = { offset: "o.0", entities: [], unkeyedTypes: [], entityKeys: KEYS };
    const transport = new ScriptedTransport([new EventStreamError("unavailable", "db down", "with_backoff"), ok]);
    const store = new LiveStateStore({ url: "http://unused", retryDelaysInMilliseconds: [0] }, transport);
    await store.start();
    expect(store.getSnapshot()).toMatchObject({ loads: 1, error: null });
    await store.stop();

    const refused = new LiveStateStore({ url: "http://unused" },
      new ScriptedTransport([new EventStreamError("forbidden_project", "not yours", "never")]));
    await expect(refused.start()).rejects.toMatchObject({ code: "forbidden_project" });
    expect(refused.getSnapshot()).toMatchObject({ status: "stopped", error: { code: "forbidden_project" } });
  });

  it("started again after stop() resumes after its offset without reloading", async () => {
    const transport = new ScriptedTransport([{ offset: "o.0", entities: [], unkeyedTypes: [], entityKeys: KEYS }]);
    const store = new LiveStateStore({ url: "http://unused", notifyIntervalInMilliseconds: 0 }, transport);
    await store.start();
    const e = ev("session_created", { id: "ao-1", activity: "active", isTerminated: false });
    (await transport.connection(1)).sink.event(e);
    await store.stop();
    expect(store.getSnapshot().status).toBe("stopped");
    await store.start();
    try {
      expect((await transport.connection(2)).after).toBe(e.offset);
      expect(transport.loads).toHaveLength(1);
      expect(store.getSnapshot().sessions.size).toBe(1);
    } finally {
      await store.stop();
    }
  });
});
