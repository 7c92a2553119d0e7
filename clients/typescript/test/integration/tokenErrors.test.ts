// Access errors end a stream as the one error contract says, over every transport: a project the
// token does not grant stops it (no retry), an expired token is replaced by a fresh one from the
// factory and the stream resumes without loss, and a token the hub rejects stops it after one
// fresh try. Over SignalR each arrives as the stream's final stream_error item (JSON and
// MessagePack), not as text to parse.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStream, EventStreamError } from "../../src/index.js";
import { Collector, waitUntil } from "../support/collect.js";
import { closeDb, connectionString, createProject, createSession, uniqueProject } from "../support/db.js";
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

/** Every state `stream` goes through from now on. */
function recordStates(stream: EventStream): string[] {
  const states: string[] = [];
  stream.state.subscribe(() => { const s = stream.state.getSnapshot().state; if (states.at(-1) !== s) states.push(s); });
  return states;
}

/** The error that stopped `stream` (it must stop by itself). */
function stopped(stream: EventStream): Promise<EventStreamError> {
  return new Promise((resolve, reject) => stream.subscribe({
    next: () => {},
    error: (e) => (e instanceof EventStreamError ? resolve(e) : reject(e)),
    complete: () => reject(new Error("the stream completed without an error")),
  }));
}

describe.each(allTransports)("access errors over %s", (_name, transport) => {
  it("stops on a project the token does not grant, without retrying", async () => {
    const stream = new EventStream({
      url: hub.url, projects: ["not-granted"], after: "0", retryDelaysInMilliseconds: [10],
      accessTokenFactory: () => mintToken(["granted"]), ...transport,
    });
    const states = recordStates(stream);
    const error = await stopped(stream);
    expect([error.code, error.retry]).toEqual(["forbidden_project", "never"]);
    expect(states).not.toContain("reconnecting");
    expect(stream.state.getSnapshot().failedAttempts).toBe(0);
  });

  it("stops with token_expired, the hub's own code, when the factory's tokens have all expired", async () => {
    // Over SignalR the refusal is the negotiation's 401, whose body names the code (the status alone
    // reads as unauthenticated); over SSE the same body.
    const stream = new EventStream({
      url: hub.url, projects: ["granted"], after: "0", retryDelaysInMilliseconds: [10],
      accessTokenFactory: () => mintToken(["granted"], -300), ...transport,
    });
    const error = await stopped(stream);
    expect([error.code, error.retry]).toEqual(["token_expired", "with_fresh_token"]);
  });

  it("gets a fresh token when its token expires and resumes without loss", async () => {
    const project = uniqueProject("tx");
    await createProject(project);
    let issued = 0;
    // Short-lived tokens until the first event: the stream outlives them. The ones after last: a
    // second short one could expire before the third event arrives on a loaded machine, and two
    // expiries with no event between stop the stream (the fresh token failed the same way).
    let longTokens = false;
    const stream = new EventStream({
      url: hub.url, projects: [project], after: "0", retryDelaysInMilliseconds: [10],
      accessTokenFactory: () => { issued++; return mintToken([project], longTokens ? 60 : 2); }, ...transport,
    });
    const collector = new Collector(stream);
    try {
      await createSession(project, 1);
      await collector.waitFor(1);
      longTokens = true;
      const first = issued;
      await createSession(project, 2); // committed while the first token runs out
      // The hub ends the stream with token_expired; the stream asks the factory again at once.
      await waitUntil(() => issued > first, (fn) => stream.state.subscribe(fn), 15_000, () => `no fresh token; issued ${issued}`);
      await createSession(project, 3);
      const events = await collector.waitFor(3);
      expect(events.map((e) => e.sessionId)).toEqual([`${project}-1`, `${project}-2`, `${project}-3`]);
      expect(stream.state.getSnapshot().duplicates).toBe(0);
    } finally {
      await stream.stop();
    }
  });

  it("retries with backoff while its token factory throws, and streams once it gives a token", async () => {
    const project = uniqueProject("tf");
    await createProject(project);
    let calls = 0;
    const stream = new EventStream({
      url: hub.url, projects: [project], after: "0", retryDelaysInMilliseconds: [10],
      // The issuer unreachable for the first two calls (SignalR asks once per request of an attempt).
      accessTokenFactory: () => { if (++calls <= 2) throw new Error("issuer unreachable"); return mintToken([project]); }, ...transport,
    });
    const collector = new Collector(stream);
    try {
      await createSession(project, 1);
      expect((await collector.waitFor(1)).map((e) => e.sessionId)).toEqual([`${project}-1`]);
      expect(stream.state.getSnapshot().state).toBe("live");
    } finally {
      await stream.stop();
    }
  });

  it("stops at once when the hub wants a token and the stream has no factory to ask for one", async () => {
    // Before, it reconnected once with the same (no) token, as if a fresh one could come.
    const stream = new EventStream({ url: hub.url, after: "0", retryDelaysInMilliseconds: [10], ...transport });
    const states = recordStates(stream);
    const error = await stopped(stream);
    expect([error.code, error.retry]).toEqual(["unauthenticated", "with_fresh_token"]);
    expect(states).not.toContain("reconnecting");
    expect(stream.state.getSnapshot().failedAttempts).toBe(0);
  });

  it("stops on a token the hub rejects once a fresh one is rejected too", async () => {
    let issued = 0;
    const stream = new EventStream({
      url: hub.url, after: "0", retryDelaysInMilliseconds: [10],
      accessTokenFactory: () => { issued++; return mintToken(["any"], 600, "a-key-the-hub-does-not-know-0123456789abcdef"); }, ...transport,
    });
    const states = recordStates(stream);
    const error = await stopped(stream);
    expect([error.code, error.retry]).toEqual(["unauthenticated", "with_fresh_token"]);
    // One fresh try: a second attempt asked the factory again (SignalR asks once per request of an attempt).
    expect(stream.state.getSnapshot().failedAttempts).toBe(1);
    expect(states.filter((s) => s === "reconnecting")).toHaveLength(1);
    expect(issued).toBeGreaterThan(1);
  });
});

// A stream with nothing to deliver for longer than its tokens live: each expiry asks the factory
// for a fresh token. The second expiry used to stop the stream ("the fresh token failed the same
// way": the mark was cleared only by an event, then by a stream that ran 10 s, so tokens of a few
// seconds still stopped it). All transports at once: each waits for two expiries.
describe("token expiry on a quiet stream", () => {
  it("outlives every token it gets over every transport, and a later event arrives", async () => {
    const project = uniqueProject("quiet");
    await createProject(project);
    const streams = allTransports.map(([name, transport]) => {
      const stream = new EventStream({
        url: hub.url, projects: [project], retryDelaysInMilliseconds: [10],
        // exp has whole seconds: each token lives 3-4 s, past the second a stream must run on a
        // token to show the hub took it, with room for a connection's set-up on a busy machine.
        accessTokenFactory: () => mintToken([project], 4), ...transport,
      });
      return { name, stream, states: recordStates(stream), collector: new Collector(stream) };
    });
    try {
      const lives = (s: (typeof streams)[number]) => s.states.filter((x) => x === "live").length;
      await Promise.all(streams.map((s) => waitUntil(() => lives(s) >= 3 || s.stream.state.getSnapshot().state === "stopped",
        (fn) => s.stream.state.subscribe(fn), 60_000, () => `${s.name}: ${s.states.join(" > ")}`)));
      for (const s of streams) expect([s.name, s.stream.state.getSnapshot().state, lives(s) >= 3]).toEqual([s.name, "live", true]);
      await createSession(project, 1);
      for (const s of streams) expect((await s.collector.waitFor(1)).map((e) => e.sessionId)).toEqual([`${project}-1`]);
    } finally {
      await Promise.all(streams.map((s) => s.stream.stop()));
    }
  }, 60_000);
});

// Within the hub's clock skew of exp a token opens the connection but not the stream: over SignalR
// the stream "goes live" on each fresh token and is refused at once. Only how long a stream ran tells
// such a factory from a quiet stream's expiries; it must stop after one fresh token, not loop.
describe("a factory of just-expired tokens", () => {
  let skewed: HubProcess;
  beforeAll(async () => {
    skewed = await HubProcess.start(await freePort(), { "ConnectionStrings:EventHub": connectionString(), ...TOKEN_MODE, "Auth:ClockSkew": "00:00:30" });
  });
  afterAll(async () => { await skewed?.stop(); });

  it.each(allTransports)("stops the stream after one fresh token over %s", async (_name, transport) => {
    const stream = new EventStream({
      url: skewed.url, after: "0", retryDelaysInMilliseconds: [10],
      accessTokenFactory: () => mintToken(["any"], -5), ...transport,
    });
    const states = recordStates(stream);
    const error = await stopped(stream);
    expect([error.code, error.retry]).toEqual(["token_expired", "with_fresh_token"]);
    expect(states.filter((s) => s === "reconnecting")).toHaveLength(1); // one fresh token, then the stop
  });
});
