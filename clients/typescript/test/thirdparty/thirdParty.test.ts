// The hub's SSE stream read by clients nobody here wrote: the `eventsource` npm package,
// @microsoft/fetch-event-source (in Node, with the two browser globals it touches shimmed),
// Chromium's native EventSource (with a project query, and the orchestrator dashboard's own
// pattern: no query, a listener per event type), and `curl -N` in a shell loop
// (curl-resume.sh). All read at once, each its own project, from a hub process of this
// suite on the shared database (one kill for all keeps the suite short); while two writers per
// project commit, the hub is killed (SIGKILL) mid-stream and started again on the same port; each
// client reconnects by itself with Last-Event-ID and must end with exactly its project's rows in
// change_log, in the hub's log order (tick, tx_id, seq), each once. The hub's retry hint is 200 ms here.
// One more Chromium EventSource streams from now and has no event before the kill (its project's
// writers start once the hub is down): it resumes from the id the hub gave it at the open.
import { fetchEventSource } from "@microsoft/fetch-event-source";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EventSource } from "eventsource";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { waitUntil } from "../support/collect.js";
import { closeDb, connectionString, createProject, createSession, db, loggedSeqs, uniqueProject } from "../support/db.js";
import { freePort, HubProcess } from "../support/HubProcess.js";

/** The event types the dashboard listens for (one listener each). */
const eventTypes = ["session_created", "session_updated", "pr_created", "pr_updated", "pr_session_changed",
  "pr_check_recorded", "pr_review_thread_added", "pr_review_thread_resolved"];
/** Frames the hub sends besides events; none may arrive in these tests. */
const signalTypes = ["reset", "stream_error"];

/** One dispatched SSE frame as a client saw it. */
interface Frame { id: string; event: string; data: string }

/** What a client has read, with waiting bounded by timeouts (no sleeps). */
class Feed {
  readonly frames: Frame[] = [];
  /** How many times the stream opened (the first connection and every reconnection). */
  opens = 0;
  errors: string[] = [];
  /** More about the client's state for a failure message. */
  diagnose: () => Promise<string> = async () => "";
  private readonly waiters = new Set<() => void>();

  /** The events of each project (parsed once, as they arrive). */
  private readonly byProject = new Map<string, Array<Frame & { seq: number }>>();

  /** `url`: the stream's address without the resume point (for a failure message). */
  constructor(readonly url: string) {}

  push(frame: Frame): void {
    this.frames.push(frame);
    if (!signalTypes.includes(frame.event)) {
      const body = JSON.parse(frame.data) as { projectId: string; seq: number };
      let list = this.byProject.get(body.projectId);
      if (!list) this.byProject.set(body.projectId, list = []);
      list.push({ ...frame, seq: body.seq });
    }
    this.notify();
  }
  opened(): void { this.opens++; this.notify(); }
  error(message: string): void { if (this.errors.length < 50) this.errors.push(message); }

  /** The project's events, in the order they arrived. */
  events(project: string): ReadonlyArray<Frame & { seq: number }> { return this.byProject.get(project) ?? []; }

  signals(): Frame[] { return this.frames.filter((f) => signalTypes.includes(f.event)); }

  until(done: () => boolean, timeoutInMilliseconds: number, describe: () => string): Promise<void> {
    let fn = () => {};
    return waitUntil(done, (f) => { fn = f; this.waiters.add(f); }, timeoutInMilliseconds,
      () => `${describe()} (opens ${this.opens}, frames ${this.frames.length}, errors: ${this.errors.slice(-3).join(" | ") || "none"})`)
      .finally(() => this.waiters.delete(fn));
  }

  private notify(): void { for (const w of [...this.waiters]) w(); }
}

/** A running third-party client; `stop` closes it. */
interface Client { feed: Feed; stop: () => Promise<void> }

/** One client under test: its project, its writers and what happened to it during the shared run. */
class Subject {
  readonly project: string;
  client: Client | undefined;
  /** The first thing that went wrong for this client during the shared run, if anything. */
  failure: unknown;
  written = 0;
  private stopped = false;
  private writers: Promise<unknown> = Promise.resolve();
  private readonly onWrite = new Set<() => void>();

  /** `writesFromKill`: the project's writers start once the hub is down, so the client has no event before the kill. */
  constructor(readonly name: string, prefix: string, readonly connect: (project: string) => Promise<Client>,
    readonly writesFromKill = false) {
    this.project = uniqueProject(prefix);
  }

  get feed(): Feed { return this.client!.feed; }
  get count(): number { return this.feed.events(this.project).length; }

  /** Two writers commit concurrently (so commits interleave): a session, then an update of it. */
  startWriters(): void {
    const write = async (from: number) => {
      for (let n = 0; !this.stopped && n < 1500; n++) {
        const id = await createSession(this.project, from + n);
        this.committed();
        if (this.stopped) break;
        await db().query("UPDATE sessions SET activity_state = 'waiting_input' WHERE id = $1", [id]);
        this.committed();
      }
    };
    this.writers = Promise.all([write(1), write(100_000)]);
  }

  async stopWriters(): Promise<void> {
    this.stopped = true;
    await this.writers;
  }

  writesAtLeast(count: number, timeoutInMilliseconds: number): Promise<void> {
    let fn = () => {};
    return waitUntil(() => this.written >= count, (f) => { fn = f; this.onWrite.add(f); }, timeoutInMilliseconds,
      () => `only ${this.written} of ${count} writes`).finally(() => this.onWrite.delete(fn));
  }

  /** Runs a step unless an earlier one failed; a failure is kept for this client's test. */
  async step(what: string, fn: () => Promise<void>): Promise<void> {
    if (this.failure !== undefined) return;
    try {
      await fn();
    } catch (e) {
      this.failure = new Error(`${this.name}: ${what}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private committed(): void {
    this.written++;
    for (const fn of [...this.onWrite]) fn();
  }
}

let port = 0;
let hub: HubProcess | undefined;
/** Every hub process of this run (the killed one and its successor), for failure messages. */
const hubs: HubProcess[] = [];
// A short retry hint, so that clients that follow it (all of these) reconnect quickly.
const startHub = async () => {
  hub = await HubProcess.start(port, { "ConnectionStrings:EventHub": connectionString(), "Sse:RetryHint": "00:00:00.200" });
  hubs.push(hub);
};

/** The hubs' output, last lines of each, for a failure message. */
function hubLogs(lines = 40): string {
  return hubs.map((h, i) => `--- hub process ${i + 1} (last ${lines} lines) ---\n${h.log.trimEnd().split("\n").slice(-lines).join("\n")}`).join("\n");
}

/**
 * What the hub itself serves to a client resuming where this one stands: the frames of the
 * project a fresh request with the client's last event id reads within two seconds. Tells a hub
 * that does not send from a client that does not read.
 */
async function hubSideResume(url: string, lastEventId: string, project: string): Promise<string> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 2_000);
  let text = "";
  try {
    const response = await fetch(url, { headers: { "Last-Event-ID": lastEventId }, signal: abort.signal });
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
  } catch { /* the abort ends the read */ } finally { clearTimeout(timer); }
  const ours = text.split("\n\n").filter((f) => f.includes(`"projectId":"${project}"`)).length;
  return `a request resuming after ${lastEventId} read ${ours} events of the project in 2 s`;
}
let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
const eventsUrl = (project: string) => `${hub!.url}/api/v1/events?project=${encodeURIComponent(project)}`;

/** The `eventsource` npm package, with a listener per type. */
async function npmEventSource(project: string): Promise<Client> {
  const feed = new Feed(eventsUrl(project));
  const es = new EventSource(`${feed.url}&after=0`);
  es.addEventListener("open", () => feed.opened());
  es.addEventListener("error", (e) => feed.error(`error: ${e.message ?? ""} ${e.code ?? ""}`));
  for (const type of [...eventTypes, ...signalTypes]) {
    es.addEventListener(type, (e) => feed.push({ id: e.lastEventId, event: e.type, data: e.data }));
  }
  return { feed, stop: async () => es.close() };
}

/** @microsoft/fetch-event-source, reconnecting the documented way (throw from onclose, retry in onerror). */
async function fetchEventSourceClient(project: string): Promise<Client> {
  const feed = new Feed(eventsUrl(project));
  const abort = new AbortController();
  const done = fetchEventSource(`${feed.url}&after=0`, {
    fetch, signal: abort.signal, openWhenHidden: true,
    onopen: async (response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      feed.opened();
    },
    onmessage: (m) => { if (m.event !== "") feed.push({ id: m.id, event: m.event, data: m.data }); },
    onclose: () => { throw new Error("the response ended"); },
    // Returning nothing retries after the server's retry hint.
    onerror: (e: unknown) => { feed.error(String(e)); },
  });
  return { feed, stop: async () => { abort.abort(); await done; } };
}

// The page's script (a string: a function here would be rewritten by vitest's transform). Each
// EventSource has a key; it reports its frames, numbered, and its open and error events.
const pageScript = `(({ key, url, types }) => {
  let i = 0;
  const es = new EventSource(url);
  (window.__es ??= {})[key] = es;
  es.addEventListener("open", () => window.__open(key));
  es.addEventListener("error", () => window.__error(key, es.readyState));
  for (const type of types) {
    es.addEventListener(type, (e) => window.__frame(key, i++, { id: e.lastEventId, event: e.type, data: e.data }));
  }
})`;

/** The page on the hub's origin that holds the native EventSources, and their feeds by key. */
let page: Page | undefined;
const nativeFeeds = new Map<string, { feed: Feed; received: Array<Frame | undefined> }>();

async function openPage(): Promise<Page> {
  const p = await browser!.context.newPage();
  // Binding calls arrive in order; the page numbers frames anyway.
  await p.exposeFunction("__frame", (key: string, i: number, frame: Frame) => {
    const { feed, received } = nativeFeeds.get(key)!;
    received[i] = frame;
    while (feed.frames.length < received.length && received[feed.frames.length]) feed.push(received[feed.frames.length]!);
  });
  await p.exposeFunction("__open", (key: string) => nativeFeeds.get(key)!.feed.opened());
  await p.exposeFunction("__error", (key: string, state: number) => nativeFeeds.get(key)!.feed.error(`error, readyState ${state}`));
  await p.goto(`${hub!.url}/__thirdparty__/page.html`);
  return p;
}

/** Chromium's native EventSource on `url` in the page, with a listener per type. */
async function nativeEventSource(key: string, url: string): Promise<Client> {
  const feed = new Feed(url.replace(/&after=0$/, ""));
  nativeFeeds.set(key, { feed, received: [] });
  feed.diagnose = async () => {
    const { received } = nativeFeeds.get(key)!;
    const readyState = await page!.evaluate(`window.__es[${JSON.stringify(key)}].readyState`).catch(String);
    return `readyState in the page: ${readyState}; frames numbered by the page: ${received.length}, passed on in order: ${feed.frames.length}`;
  };
  await page!.evaluate(`${pageScript}(${JSON.stringify({ key, url, types: [...eventTypes, ...signalTypes] })})`);
  return { feed, stop: async () => { await page!.evaluate(`window.__es[${JSON.stringify(key)}].close()`).catch(() => undefined); } };
}

/** `curl -N` in curl-resume.sh; its output (complete frames only) parsed here. */
async function curlLoop(project: string): Promise<Client> {
  const feed = new Feed(eventsUrl(project));
  const state = mkdtempSync(join(tmpdir(), "eventhub-curl-"));
  const script = join(dirname(fileURLToPath(import.meta.url)), "curl-resume.sh");
  const child: ChildProcess = spawn("bash", [script, feed.url, state, "300"], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.on("data", (d: Buffer) => feed.error(d.toString().trim()));
  let pending = "";
  child.stdout!.on("data", (d: Buffer) => {
    pending += d.toString();
    let end: number;
    while ((end = pending.indexOf("\n\n")) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const frame: Frame = { id: "", event: "message", data: "" };
      let hasData = false;
      for (const line of block.split("\n")) {
        if (line === ": connected") feed.opened();
        else if (line.startsWith("id: ")) frame.id = line.slice(4);
        else if (line.startsWith("event: ")) frame.event = line.slice(7);
        else if (line.startsWith("data: ")) { frame.data += (hasData ? "\n" : "") + line.slice(6); hasData = true; }
      }
      if (hasData) feed.push(frame);
    }
  });
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  return {
    feed,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGTERM"); // the script and its curl
      await exited;
      rmSync(state, { recursive: true, force: true });
    },
  };
}

const subjects = [
  new Subject("eventsource (npm)", "tp-es", npmEventSource),
  new Subject("@microsoft/fetch-event-source", "tp-fes", fetchEventSourceClient),
  new Subject("Chromium EventSource with a project query", "tp-cr", (p) => nativeEventSource("project", `${eventsUrl(p)}&after=0`)),
  // The orchestrator dashboard's pattern: no query ("from now", every project), a listener per event type.
  new Subject("Chromium EventSource as the dashboard uses it", "tp-db", () => nativeEventSource("dashboard", `${hub!.url}/api/v1/events`)),
  new Subject("curl -N shell loop", "tp-curl", curlLoop),
  // From now, dropped before its first event: the hub's first frame (an id, no data) is all it has to resume from.
  new Subject("Chromium EventSource from now, dropped before its first event", "tp-now",
    (p) => nativeEventSource("from-now", eventsUrl(p)), true),
];
// For fetch-event-source: the library calls window.setTimeout/clearTimeout and document's
// (add|remove)EventListener for visibilitychange, even with openWhenHidden.
const g = globalThis as Record<string, unknown>;
const shimmed = { window: !("window" in g), document: !("document" in g) };

/**
 * The shared run: every client connects to its own project; once all are open, writers commit
 * for each project; the hub is killed (SIGKILL) mid-stream, the writers go on while it is down,
 * and it is started again on the same port. Each client's steps are bounded and kept apart, so one
 * client failing fails its own test only.
 */
beforeAll(async () => {
  if (shimmed.window) g.window = { setTimeout, clearTimeout, fetch };
  if (shimmed.document) g.document = { hidden: false, addEventListener: () => {}, removeEventListener: () => {} };
  port = await freePort();
  await startHub();
  browser = await launchChromium();
  // A blank page on the hub's origin (served by request interception, so it is there while the hub is down).
  await browser.context.route(`${hub!.url}/__thirdparty__/page.html`, (route) =>
    route.fulfill({ contentType: "text/html", body: "<!doctype html><title>third-party</title>" }));
  page = await openPage();

  const each = (what: string, fn: (s: Subject) => Promise<void>) =>
    Promise.all(subjects.map((s) => s.step(what, () => fn(s))));
  await each("connect", async (s) => {
    await createProject(s.project);
    s.client = await s.connect(s.project);
    // From now (the dashboard) streams only what is committed after it opened: wait for the open.
    await s.feed.until(() => s.feed.opens >= 1, 20_000, () => "the stream did not open")
      .catch(async (e: unknown) => { throw new Error(`${e instanceof Error ? e.message : String(e)}; ${await s.feed.diagnose()}`); });
    if (!s.writesFromKill) s.startWriters();
  });
  await each("events before the kill", (s) => s.writesFromKill
    ? Promise.resolve()
    : s.feed.until(() => s.count >= 10, 20_000, () => `expected 10 events, got ${s.count}`));

  await hub!.kill(); // no graceful shutdown, no final frame
  const opensBefore = subjects.map((s) => s.client?.feed.opens ?? 0);
  for (const s of subjects) if (s.writesFromKill && s.failure === undefined) s.startWriters();
  await each("writes while the hub is down", (s) => s.writesAtLeast(s.written + 20, 15_000));
  await startHub();

  await each("after the restart", async (s) => {
    const opens = opensBefore[subjects.indexOf(s)]!;
    const atRestart = s.written;
    await s.feed.until(() => s.feed.opens > opens, 30_000, () => "the client did not reconnect");
    await s.writesAtLeast(atRestart + 10, 15_000);
    await s.feed.until(() => s.count >= atRestart + 10, 30_000, () => `expected ${atRestart + 10} events, got ${s.count}`);
  });
  await Promise.all(subjects.map((s) => s.step("writers", () => s.stopWriters())));
}, 150_000);

afterAll(async () => {
  await Promise.all(subjects.map((s) => s.stopWriters().catch(() => undefined)));
  await Promise.all(subjects.map((s) => s.client?.stop().catch(() => undefined)));
  await browser?.close();
  await hub?.stop();
  await closeDb();
  if (shimmed.window) delete g.window;
  if (shimmed.document) delete g.document;
});

describe("third-party SSE clients read exactly the log across a hub killed (SIGKILL) and restarted mid-stream", () => {
  it.each(subjects.map((s) => [s.name, s] as const))("%s", async (_name, s) => {
    if (s.failure !== undefined) throw s.failure;
    const feed = s.feed;
    const logged = await loggedSeqs(s.project);
    expect(logged).toHaveLength(s.written);
    await feed.until(() => s.count >= logged.length, 30_000, () => `expected ${logged.length} events, got ${s.count}`)
      .catch(async (e: unknown) => {
        const last = feed.frames.at(-1);
        throw new Error([
          e instanceof Error ? e.message : String(e),
          await feed.diagnose(),
          `last frame: ${last ? `${last.id} ${last.event}` : "none"}; signals: ${JSON.stringify(feed.signals())}`,
          last ? await hubSideResume(feed.url, last.id, s.project) : "",
          hubLogs(),
        ].join("\n"));
      });
    const events = feed.events(s.project);
    expect(events.map((e) => e.seq)).toEqual(logged); // exactly the log, in its order, none twice
    expect(events.every((e) => e.id !== "")).toBe(true);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(feed.opens).toBeGreaterThanOrEqual(2); // it reconnected by itself
    expect(feed.signals()).toEqual([]);
  }, 45_000);
});
