// The package itself in a real browser: a page bundled from test/browser/clientPage.ts, served
// on the hub's origin through request interception, streams over SignalR and over SSE.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { foreignLogOffset } from "../support/foreignLog.js";
import { closeDb, createProject, createSession, uniqueProject, writeAllEightTypes } from "../support/db.js";

let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [join(dirname(fileURLToPath(import.meta.url)), "clientPage.ts")],
    bundle: true, format: "esm", platform: "browser", target: "es2022", write: false, logLevel: "warning",
  });
  const script = bundle.outputFiles[0]!.text;
  browser = await launchChromium();
  context = browser.context;
  const hub = inject("hub").url;
  // The page is fulfilled by interception, not fetched: Chromium then places it outside the
  // loopback address space, and its Local Network Access checks block the page's WebSockets to
  // 127.0.0.1 (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS; fetch and EventSource pass), so
  // SignalR fell back to SSE or long polling. A page the hub serves itself (the viewer) is in
  // the loopback space and needs no grant; this one gets the grant a user's browser would ask for.
  await context.grantPermissions(["local-network-access"], { origin: hub });
  await context.route(`${hub}/__test__/client.js`, (route) => route.fulfill({ contentType: "text/javascript", body: script }));
  await context.route(`${hub}/__test__/client.html*`, (route) => route.fulfill({
    contentType: "text/html", body: "<!doctype html><title>client</title><script type=module src=/__test__/client.js></script>",
  }));
});
afterAll(async () => {
  await browser?.close();
  await closeDb();
});

interface Received {
  types: string[]; seqs: number[]; createdAtIsDate: boolean[]; checkStatus: string | null;
  states: string[]; usedEventSource: boolean; error: string | null; resets: Array<{ reason: string; offset: string }>;
  duplicates: number;
}

const cases: Array<[string, string, boolean]> = [
  ["SignalR JSON", "transport=signalr&protocol=json", false],
  ["SignalR MessagePack", "transport=signalr&protocol=msgpack", false],
  ["SSE with EventSource (exact types)", "transport=sse&" + ["session_created", "pr_check_recorded", "pr_review_thread_resolved"].map((t) => `type=${t}`).join("&"), true],
  // Every type, the future tracker_issue_opened among them: with unnamed frames an EventSource
  // receives them all (with named frames it heard only the types it listened for).
  ["SSE with EventSource (every type)", "transport=sse", true],
  ["SSE with the fetch reader (every type)", "transport=sse&reader=fetch", false],
];

describe.each(cases)("the package in a browser page over %s", (_name, query, eventSource) => {
  it("receives the project's events, typed, and goes live", async () => {
    const project = uniqueProject("page");
    const all = await writeAllEightTypes(project);
    const types = new URLSearchParams(query).getAll("type");
    const expected = types.length > 0 ? all.filter((t) => types.includes(t)) : all;

    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const webSockets: string[] = [];
    const webSocketsWithFrames = new Set<string>();
    page.on("websocket", (ws) => {
      webSockets.push(ws.url());
      ws.on("framereceived", () => webSocketsWithFrames.add(ws.url()));
    });
    try {
      await page.goto(`${inject("hub").url}/__test__/client.html?${query}&project=${project}`);
      await page.waitForFunction((n) => {
        const r = (window as unknown as { __eventhub?: { seqs: number[]; error: string | null } }).__eventhub;
        return r !== undefined && (r.seqs.length >= n || r.error !== null);
      }, expected.length, { timeout: 20_000 });
      const r = await page.evaluate(() => (window as unknown as { __eventhub: Received }).__eventhub);
      expect(r.error).toBeNull();
      expect(r.types).toEqual(expected);
      expect(new Set(r.seqs).size).toBe(expected.length);
      expect(r.duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
      expect(r.createdAtIsDate.every(Boolean)).toBe(true);
      expect(r.checkStatus).toBe("failed");
      expect(r.states).toEqual(["connecting", "live"]);
      expect(r.usedEventSource).toBe(eventSource);
      // SignalR's first choice of transport, WebSockets, and the stream came over it (the hub's
      // frames on the one WebSocket), not over a fallback.
      const hubSockets = webSockets.filter((u) => u.includes("/hubs/events"));
      expect(hubSockets).toHaveLength(query.includes("transport=signalr") ? 1 : 0);
      expect(hubSockets.every((u) => webSocketsWithFrames.has(u))).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});

const resetCases: Array<[string, string, boolean]> = [
  ["SSE with EventSource", "transport=sse", true],
  ["SSE with the fetch reader", "transport=sse&reader=fetch", false],
  ["SignalR JSON", "transport=signalr&protocol=json", false],
];

describe.each(resetCases)("a reset in a browser page over %s", (_name, query, eventSource) => {
  it("is delivered as a reset item, then the stream continues from its offset", async () => {
    const foreign = await foreignLogOffset(); // another database's offset: opaque, whatever its format
    const project = uniqueProject("prz");
    await createProject(project);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    type Page = { __eventhub?: { seqs: number[]; resets: unknown[]; error: string | null } };
    try {
      await page.goto(`${inject("hub").url}/__test__/client.html?${query}&project=${project}&after=${encodeURIComponent(foreign)}`);
      await page.waitForFunction(() => {
        const r = (window as unknown as Page).__eventhub;
        return r !== undefined && (r.resets.length >= 1 || r.error !== null);
      }, undefined, { timeout: 20_000 });
      await createSession(project, 1);
      await createSession(project, 2);
      await page.waitForFunction(() => {
        const r = (window as unknown as Page).__eventhub;
        return r !== undefined && (r.seqs.length >= 2 || r.error !== null);
      }, undefined, { timeout: 20_000 });
      const r = await page.evaluate(() => (window as unknown as { __eventhub: Received }).__eventhub);
      expect(r.error).toBeNull();
      expect(r.resets).toHaveLength(1);
      expect(r.resets[0]!.reason).toBe("offset_from_another_log");
      expect(r.types).toEqual(["session_created", "session_created"]);
      expect(r.usedEventSource).toBe(eventSource);
      expect(r.states.at(-1)).toBe("live");
      expect(r.states).not.toContain("stopped");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
