// The live state store against a hub in token mode, over every transport: the state load carries
// the token as the stream does (bearer header over HTTP, the access token factory over SignalR), so
// "every project" is the token's projects; a project the token does not grant stops the store with
// forbidden_project, without retrying.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveStateStore, liveEntityId } from "../../src/index.js";
import { waitUntil } from "../support/collect.js";
import { closeDb, connectionString, createProject, createSession, loggedSeqs, uniqueProject } from "../support/db.js";
import { freePort, HubProcess } from "../support/HubProcess.js";
import { mintToken, TOKEN_MODE } from "../support/tokens.js";
import { allTransports } from "../support/transports.js";

let hub: HubProcess;
beforeAll(async () => {
  hub = await HubProcess.start(await freePort(), { "ConnectionStrings:EventHub": connectionString(), ...TOKEN_MODE });
});
afterAll(async () => {
  await hub?.stop();
  await closeDb();
});

describe.each(allTransports)("live state access over %s", (_name, transport) => {
  it("loads and streams only what the token grants", async () => {
    const granted = uniqueProject("ga");
    const other = uniqueProject("go");
    await createProject(granted);
    await createProject(other);
    await createSession(granted, 1);
    await createSession(other, 1);
    // A state read holds what is in a tick; the tick is another process's to make.
    await loggedSeqs(granted);
    await loggedSeqs(other);
    let tokens = 0;
    const store = new LiveStateStore({
      url: hub.url, accessTokenFactory: () => { tokens++; return mintToken([granted]); }, notifyIntervalInMilliseconds: 0, ...transport,
    });
    try {
      await store.start();
      expect([...store.getSnapshot().sessions.keys()]).toEqual([liveEntityId(granted, `${granted}-1`)]);
      await createSession(other, 2);
      await createSession(granted, 2); // after the other's: once it is in, the other's would have been too
      let off = () => {};
      await waitUntil(() => store.getSnapshot().sessions.size === 2, (fn) => { off = store.subscribe(fn); }, 15_000,
        () => `sessions: ${[...store.getSnapshot().sessions.keys()].join(", ")}`).finally(() => off());
      expect([...store.getSnapshot().sessions.keys()].sort()).toEqual([liveEntityId(granted, `${granted}-1`), liveEntityId(granted, `${granted}-2`)].sort());
      expect(tokens).toBeGreaterThanOrEqual(2); // the load and the stream each asked for a token
    } finally {
      await store.stop();
    }
  });

  it("stops on a project the token does not grant", async () => {
    const store = new LiveStateStore({ url: hub.url, projects: ["not-granted"], accessTokenFactory: () => mintToken(["granted"]), ...transport });
    await expect(store.start()).rejects.toMatchObject({ code: "forbidden_project", retry: "never" });
    expect(store.getSnapshot()).toMatchObject({ status: "stopped", loads: 0, error: { code: "forbidden_project" } });
  });
});
