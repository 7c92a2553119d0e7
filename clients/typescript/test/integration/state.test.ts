import { afterAll, describe, expect, inject, it } from "vitest";
import { EventStream, EventStreamError, isStreamReset, type ConnectionState } from "../../src/index.js";
import { Collector, waitForState } from "../support/collect.js";
import { closeDb, createProject, createSession, uniqueProject } from "../support/db.js";
import { freePort } from "../support/HubProcess.js";
import { allTransports } from "../support/transports.js";

afterAll(closeDb);

/** Records every state the stream's store goes through, starting with the current one. */
function recordStates(stream: EventStream): ConnectionState[] {
  const states: ConnectionState[] = [stream.state.getSnapshot().state];
  stream.state.subscribe(() => {
    const s = stream.state.getSnapshot().state;
    if (states.at(-1) !== s) states.push(s);
  });
  return states;
}

describe.each(allTransports)("connection state over %s", (_name, transport) => {
  it("goes idle, connecting, live, then stopped on stop(), with the offset of the last event", async () => {
    const project = uniqueProject("st");
    await createProject(project);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], after: "0", ...transport });
    const states = recordStates(stream);
    expect(stream.state.getSnapshot()).toEqual({ state: "idle", offset: "0", error: null, failedAttempts: 0, lastReset: null, duplicates: 0, paused: false });
    const collector = new Collector(stream);
    await waitForState(stream, "live");
    await createSession(project, 1);
    const [event] = await collector.waitFor(1);
    expect(stream.state.getSnapshot().offset).toBe(event!.offset);
    await stream.stop();
    expect(states).toEqual(["idle", "connecting", "live", "stopped"]);
    expect(stream.state.getSnapshot().error).toBeNull();
  });

  it("stops with the hub's error code, without retrying, when the offset is malformed", async () => {
    const stream = new EventStream({ url: inject("hub").url, after: "not-an-offset", retryDelaysInMilliseconds: [10], ...transport });
    const states = recordStates(stream);
    const failure = new Promise<Error>((resolve) => stream.subscribe({ next: () => {}, error: resolve }));
    const error = await failure;
    expect(error).toBeInstanceOf(EventStreamError);
    expect((error as EventStreamError).code).toBe("invalid_offset");
    expect((error as EventStreamError).retryable).toBe(false);
    expect(stream.state.getSnapshot()).toMatchObject({ state: "stopped", error });
    expect(states).not.toContain("reconnecting");
    expect(states.at(-1)).toBe("stopped");
  });

  it.each(["/hubs/events", "/api/v1/events/"])("streams when the URL names the hub's endpoint %s rather than its base", async (path) => {
    // The .NET client and the CLI take the hub's own URL too; the client uses the base it is under.
    const project = uniqueProject("url");
    await createProject(project);
    const stream = new EventStream({ url: `${inject("hub").url}${path}`, projects: [project], after: "0", ...transport });
    const collector = new Collector(stream);
    await createSession(project, 1);
    const [event] = await collector.waitFor(1);
    expect(event!.projectId).toBe(project);
    await stream.stop();
  });

  it("stops without retrying when the URL has a path the hub does not serve", async () => {
    // A proxy prefix the hub does not have: the hub answers 404 with its JSON error body, whose
    // code both transports read (SignalR's from the negotiation error's text).
    const stream = new EventStream({ url: `${inject("hub").url}/no-such-prefix`, retryDelaysInMilliseconds: [10], ...transport });
    const states = recordStates(stream);
    const error = await new Promise<Error>((resolve) => stream.subscribe({ next: () => {}, error: resolve }));
    expect(error).toBeInstanceOf(EventStreamError);
    expect((error as EventStreamError).code).toBe("not_found");
    expect((error as EventStreamError).retryable).toBe(false);
    expect(states).not.toContain("reconnecting");
  });

  it("keeps reconnecting while the hub is unreachable, counting failed attempts, until stopped", async () => {
    const stream = new EventStream({ url: `http://127.0.0.1:${await freePort()}`, retryDelaysInMilliseconds: [10, 20], ...transport });
    const states = recordStates(stream);
    const unsubscribe = stream.subscribe(() => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("fewer than 3 failed attempts in 10 s")), 10_000);
      stream.state.subscribe(() => {
        if (stream.state.getSnapshot().failedAttempts >= 3) { clearTimeout(timer); resolve(); }
      });
    });
    expect(stream.state.getSnapshot().state).toBe("reconnecting");
    expect(stream.state.getSnapshot().error).toBeInstanceOf(EventStreamError);
    unsubscribe(); // the last consumer leaving stops the stream
    await stream.stop();
    expect(states.slice(0, 3)).toEqual(["idle", "connecting", "reconnecting"]);
    expect(states).not.toContain("live");
    expect(stream.state.getSnapshot().state).toBe("stopped");
  });
});

describe("the async iterator", () => {
  it("yields events in order and stops the stream when the loop breaks", async () => {
    const project = uniqueProject("it");
    await createProject(project);
    for (let i = 1; i <= 3; i++) await createSession(project, i);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], after: "0", transport: "sse" });
    const ids: string[] = [];
    for await (const event of stream) {
      if (!isStreamReset(event) && event.type === "session_created") ids.push(event.sessionId!);
      if (ids.length === 3) break;
    }
    expect(ids).toEqual([`${project}-1`, `${project}-2`, `${project}-3`]);
    await waitForState(stream, "stopped", 5_000);
  });
});
