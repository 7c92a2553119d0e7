// Resume across a hub restart: a second hub process on the shared database (it does not own the
// cluster, so stopping it leaves PostgreSQL up) is stopped (SIGTERM) or killed (SIGKILL) while a
// client streams, events are written while it is down, and it is started again on the same port.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStream } from "../../src/index.js";
import { Collector, waitForState, waitUntil } from "../support/collect.js";
import { closeDb, connectionString, createProject, createSession, loggedSeqs, uniqueProject } from "../support/db.js";
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
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
      expect(stream.offset).toBe(events[7]!.offset);
    } finally {
      await stream.stop();
    }
  });

  it("from now: streams after the hub's head offset, so a drop before the first event loses nothing", { timeout: 90_000 }, async () => {
    const project = uniqueProject("nw");
    await createProject(project);
    const stream = new EventStream({ url: hub!.url, projects: [project], after: null, retryDelaysInMilliseconds: [50, 100, 250], ...transport });
    const collector = new Collector(stream);
    try {
      await waitForState(stream, "live");
      expect(stream.offset).not.toBeNull(); // "now" became a fixed offset before the stream opened

      await hub!.stop(); // the server drops the connection before any event
      await waitForState(stream, "reconnecting");
      for (let i = 1; i <= 3; i++) await createSession(project, i); // committed while no hub runs
      await startHub();
      await waitForState(stream, "live", 30_000);
      await createSession(project, 4);

      const events = await collector.waitFor(4);
      expect(events.map((e) => e.sessionId)).toEqual([1, 2, 3, 4].map((n) => `${project}-${n}`));
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
    } finally {
      await stream.stop();
    }
  });

  it("resumes after the hub process is killed (SIGKILL) mid-stream while writers keep writing", { timeout: 90_000 }, async () => {
    const project = uniqueProject("kl");
    await createProject(project);
    const stream = new EventStream({ url: hub!.url, projects: [project], after: "0", retryDelaysInMilliseconds: [50, 100, 250], ...transport });
    const collector = new Collector(stream);
    // Two writers commit concurrently (so commits interleave) until told to stop.
    let stop = false;
    let written = 0;
    const onWrite = new Set<() => void>();
    const write = async (from: number) => {
      for (let n = 0; !stop && n < 2000; n++) {
        await createSession(project, from + n);
        written++;
        for (const fn of onWrite) fn();
      }
    };
    const writers = Promise.all([write(1), write(100_000)]);
    try {
      await collector.waitFor(20);
      await hub!.kill(); // no graceful shutdown, no final frame
      await waitForState(stream, "reconnecting");
      const atKill = written;
      await waitUntil(() => written >= atKill + 20, (fn) => onWrite.add(fn), 15_000, () => `only ${written - atKill} writes while the hub was down`);

      await startHub();
      await waitForState(stream, "live", 30_000);
      await collector.waitFor(collector.events.length + 20); // the writers are still going
      stop = true;
      await writers;

      const logged = await loggedSeqs(project);
      expect(logged).toHaveLength(written);
      const events = await collector.waitFor(logged.length, 30_000);
      expect(events.map((e) => e.seq)).toEqual(logged); // exactly the log, in its order, none twice
      expect(collector.resets).toHaveLength(0);
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
    } finally {
      stop = true;
      await writers.catch(() => undefined);
      await stream.stop();
    }
  });
});
