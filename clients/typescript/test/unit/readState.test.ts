// The state read over SignalR (readState) against a fake hub: the pages become GetState's shape,
// a read whose pages do not add up is refused, and a hub without StreamState is asked GetState.
import type { IStreamResult, IStreamSubscriber } from "@microsoft/signalr";
import { describe, expect, it } from "vitest";
import { EventStreamError } from "../../src/index.js";
import { readState, type StateHub } from "../../src/transports/readState.js";

const entity = (n: number) => ({ kind: "session", key: `["s${n}"]`, event: { seq: n, projectId: "p", type: "session_created", payload: { id: `s${n}` } } });
const keys = { session_created: { kind: "session", fields: ["id"] } };

/** A hub whose StreamState sends `pages` (or fails with `streamError`), and whose GetState answers `state`. */
function fakeHub(pages: unknown[], streamError?: Error, state?: unknown) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const hub: StateHub = {
    stream<T>(method: string, ...args: unknown[]): IStreamResult<T> {
      calls.push({ method, args });
      return {
        subscribe(subscriber: IStreamSubscriber<T>) {
          queueMicrotask(() => {
            for (const page of pages) subscriber.next(page as T);
            if (streamError) subscriber.error(streamError);
            else subscriber.complete();
          });
          return { dispose() {} };
        },
      };
    },
    invoke<T>(method: string, ...args: unknown[]): Promise<T> {
      calls.push({ method, args });
      return Promise.resolve(state as T);
    },
  };
  return { hub, calls };
}

const request = { projects: ["p"], types: [] };

describe("readState", () => {
  it("joins the StreamState pages into one state: the head from the first, every entity, the count checked on the last", async () => {
    const { hub, calls } = fakeHub([
      { offset: "e-9-0", entities: [entity(1), entity(2)], unkeyedTypes: ["tracker_x"], entityKeys: keys, entityCount: null },
      { offset: "e-9-0", entities: [entity(3), entity(4)], unkeyedTypes: null, entityKeys: null, entityCount: null },
      { offset: "e-9-0", entities: [entity(5)], unkeyedTypes: null, entityKeys: null, entityCount: 5 },
    ]);
    const state = await readState(hub, request);
    expect(state).toEqual({ offset: "e-9-0", entities: [1, 2, 3, 4, 5].map(entity), unkeyedTypes: ["tracker_x"], entityKeys: keys });
    expect(calls).toEqual([{ method: "StreamState", args: [{ projects: ["p"], types: null, after: null }] }]);
  });

  it("takes an empty state as one page", async () => {
    const { hub } = fakeHub([{ offset: "e-1-0", entities: [], unkeyedTypes: [], entityKeys: keys, entityCount: 0 }]);
    expect(await readState(hub, { projects: [], types: [] })).toEqual({ offset: "e-1-0", entities: [], unkeyedTypes: [], entityKeys: keys });
  });

  it.each([
    ["fewer entities than the last page counts", [
      { offset: "e-9-0", entities: [entity(1)], unkeyedTypes: [], entityKeys: keys, entityCount: null },
      { offset: "e-9-0", entities: [entity(2)], entityCount: 3 }]],
    ["no count (the stream ended early)", [{ offset: "e-9-0", entities: [entity(1)], unkeyedTypes: [], entityKeys: keys, entityCount: null }]],
    ["pages of two offsets", [
      { offset: "e-9-0", entities: [entity(1)], unkeyedTypes: [], entityKeys: keys, entityCount: null },
      { offset: "e-10-0", entities: [entity(2)], entityCount: 2 }]],
    ["no page", []],
  ])("never returns a state whose pages do not add up: %s", async (_case, pages) => {
    const error = await readState(fakeHub(pages).hub, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventStreamError);
    expect((error as EventStreamError).code).toBe("invalid_state");
    expect((error as EventStreamError).retryable).toBe(true);
  });

  it("refuses a page that is not an object, without retrying", async () => {
    const error = await readState(fakeHub(["not a page"]).hub, request).catch((e: unknown) => e);
    expect((error as EventStreamError).code).toBe("invalid_state");
    expect((error as EventStreamError).retryable).toBe(false);
  });

  it("asks GetState of a hub that has no StreamState", async () => {
    const answer = { offset: "e-2-0", entities: [entity(1)], unkeyedTypes: [], entityKeys: keys };
    const { hub, calls } = fakeHub([], new Error("Failed to invoke 'StreamState' due to an error on the server. HubException: Method does not exist."), answer);
    expect(await readState(hub, request)).toBe(answer);
    expect(calls.map((c) => c.method)).toEqual(["StreamState", "GetState"]);
    expect(calls[1]!.args).toEqual([{ projects: ["p"], types: null, after: null }]);
  });

  it("reports the hub's refusal by its code, without asking GetState", async () => {
    const { hub, calls } = fakeHub([], new Error("An unexpected error occurred invoking 'StreamState' on the server. HubException: forbidden_project: The token does not grant project p."));
    const error = await readState(hub, request).catch((e: unknown) => e);
    expect((error as EventStreamError).code).toBe("forbidden_project");
    expect(calls.map((c) => c.method)).toEqual(["StreamState"]);
  });
});
