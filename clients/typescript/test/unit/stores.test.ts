import { describe, expect, it } from "vitest";
import { ConnectionStateStore, decodeEvent, RecentEvents } from "../../src/index.js";

describe("ConnectionStateStore", () => {
  it("keeps the same snapshot until something changes, and notifies only on change", () => {
    const store = new ConnectionStateStore({ state: "idle", offset: null, error: null, failedAttempts: 0, lastReset: null, duplicates: 0, paused: false });
    let calls = 0;
    const unsubscribe = store.subscribe(() => calls++);
    const first = store.getSnapshot();
    store.update({ state: "idle" });
    expect(store.getSnapshot()).toBe(first);
    expect(calls).toBe(0);
    store.update({ state: "connecting" });
    expect(store.getSnapshot()).not.toBe(first);
    expect(store.getSnapshot().state).toBe("connecting");
    expect(Object.isFrozen(store.getSnapshot())).toBe(true);
    expect(calls).toBe(1);
    unsubscribe();
    store.update({ state: "live" });
    expect(calls).toBe(1);
  });
});

describe("RecentEvents", () => {
  const event = (seq: number) => decodeEvent({ seq, projectId: "p", type: "x", payload: {}, createdAt: new Date(), offset: `o${seq}` });

  it("keeps the newest events first, capped, and notifies once per batch", () => {
    const recent = new RecentEvents(3, 60_000);
    let calls = 0;
    recent.subscribe(() => calls++);
    for (let i = 1; i <= 5; i++) recent.push(event(i));
    expect(recent.getSnapshot()).toEqual([]); // not flushed yet
    expect(recent.count).toBe(0);
    recent.flush();
    expect(calls).toBe(1);
    expect(recent.getSnapshot().map((e) => e.seq)).toEqual([5, 4, 3]);
    recent.push(event(6));
    recent.flush();
    expect(recent.getSnapshot().map((e) => e.seq)).toEqual([6, 5, 4]);
    expect(recent.count).toBe(6);
    recent.clear();
    expect(recent.getSnapshot()).toEqual([]);
  });
});
