// Resume across a hub restart: a second hub process on the shared database (it does not own the
// cluster, so stopping it leaves PostgreSQL up) is stopped while a client streams, events are
// written while it is down, and it is started again on the same port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStream } from "../../src/index.js";
import { Collector, waitForState } from "../support/collect.js";
import { closeDb, connectionString, createProject, createSession, uniqueProject } from "../support/db.js";
import { freePort, HubProcess } from "../support/HubProcess.js";
import { allTransports } from "../support/transports.js";

let port = 0;
let hub: HubProcess | undefined;
const startHub = async () => { hub = await HubProcess.start(port, { "ConnectionStrings:EventHub": connectionString() }); };

beforeAll(async () => {
  port = await freePort();
  await startHub();
});
afterAll(async () => {
  await hub?.stop();
  await closeDb();
});

describe.each(allTransports)("resume over %s", (_name, transport) => {
  it("resumes after the hub restarts, with every event once and in order", { timeout: 90_000 }, async () => {
    const project = uniqueProject("rs");
    await createProject(project);
    for (let i = 1; i <= 3; i++) await createSession(project, i);
    const stream = new EventStream({ url: hub!.url, projects: [project], after: "0", retryDelaysInMilliseconds: [50, 100, 250], ...transport });
    const collector = new Collector(stream);
    try {
      await collector.waitFor(3);
      const offsetBeforeDrop = stream.offset;

      await hub!.stop(); // the server drops the connection
      await waitForState(stream, "reconnecting");
      expect(stream.offset).toBe(offsetBeforeDrop);
      for (let i = 4; i <= 6; i++) await createSession(project, i); // written while the hub is down

      await startHub();
      await waitForState(stream, "live", 30_000);
      for (let i = 7; i <= 8; i++) await createSession(project, i); // live again
      const events = await collector.waitFor(8);

      expect(events.map((e) => e.sessionId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${project}-${n}`));
      expect(new Set(events.map((e) => e.seq)).size).toBe(8);
      expect(stream.offset).toBe(events[7]!.offset);
    } finally {
      await stream.stop();
    }
  });
});
