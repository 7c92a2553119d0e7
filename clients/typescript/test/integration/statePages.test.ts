// The live state over SignalR arrives as the hub's StreamState pages: against a hub whose pages hold
// two entities, the state the client's SignalR transport loads over each protocol (as LiveStateStore
// loads it) is the HTTP state, entity for entity (their offsets may differ: other suites' writes
// make ticks between the two loads).
import { HubConnection } from "@microsoft/signalr";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeLiveState } from "../../src/state/decodeLiveState.js";
import { SignalRTransport } from "../../src/transports/SignalRTransport.js";
import { SseTransport } from "../../src/transports/SseTransport.js";
import { closeDb, connectionString, loggedSeqs, uniqueProject, writeAllEightTypes, writeSessionEvents } from "../support/db.js";
import { freePort, HubProcess } from "../support/HubProcess.js";

let hub: HubProcess;
beforeAll(async () => {
  hub = await HubProcess.start(await freePort(), { "ConnectionStrings:EventHub": connectionString(), "SignalR:StatePageEntities": "2" });
}, 120_000);
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await hub?.stop();
  await closeDb();
});

const summary = (answer: unknown) => {
  const state = decodeLiveState(answer);
  return {
    entities: state.entities.map((e) => ({ id: e.id, kind: e.kind, seq: e.event.seq, type: e.event.type, payload: e.event.payload }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
    unkeyedTypes: state.unkeyedTypes,
    entityKeys: state.entityKeys,
  };
};

describe.each([["JSON", "json"], ["MessagePack", "msgpack"]] as const)("the state over SignalR %s, in pages of two entities", (_name, protocol) => {
  it("is the HTTP state, every entity", async () => {
    const project = uniqueProject("sp");
    await writeAllEightTypes(project);
    await writeSessionEvents(project, 10, 7);
    await loggedSeqs(project); // every row in a tick: both reads hold them all
    const request = { projects: [project], types: [] };
    const signal = new AbortController().signal;
    const http = summary(await new SseTransport(hub.url, "fetch").loadState(request, signal));
    const streamed = vi.spyOn(HubConnection.prototype, "stream");
    const invoked = vi.spyOn(HubConnection.prototype, "invoke");
    const pages = summary(await new SignalRTransport(hub.url, protocol).loadState(request, signal));
    // Pages, not GetState's one message (which a slow link cannot take: readState says why).
    expect(streamed.mock.calls.map((c) => c[0])).toEqual(["StreamState"]);
    expect(invoked.mock.calls.map((c) => c[0])).not.toContain("GetState");
    expect(http.entities.length).toBeGreaterThan(10); // more than five pages
    expect(pages).toEqual(http);
  });
});
