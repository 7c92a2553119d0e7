// Cross-site protection (docs/security.md, "Cross-site protection") in a real Chromium, against
// the suites' hub in open mode on 127.0.0.1. Chromium resolves evil.example to 127.0.0.2
// (--host-resolver-rules), so a page "on another site" is served from loopback:
// - cross-site WebSocket hijacking: a page at http://evil.example:<port>/ opens the hub's
//   WebSocket (SignalR JSON handshake, no negotiate), an EventSource and a fetch reader on
//   http://127.0.0.1:<hub>/api/v1/events; browsers apply no CORS to WebSockets.
// - DNS rebinding: a server on 127.0.0.2:<hub port> serves the same page at
//   http://evil.example:<hub>/ and then, as if the name had been rebound to 127.0.0.1, forwards
//   every later connection to the hub unchanged; the page reads /api/v1/events and /hubs/events
//   as same-origin, and only the Host header gives it away.
// While rows are written, neither reads an event. The same page on a loopback origin and on the
// hub's own origin reads everything (so "nothing" means refused, not broken), and so does the viewer.
import { createServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { closeDb, createProject, createSession, uniqueProject } from "../support/db.js";

/** What the page read: stream items over the WebSocket, messages over EventSource, events over fetch. */
interface Read {
  wsOpened: boolean; wsItems: number; wsClose: number | null; esEvents: number; esErrors: number; fetchStatus: number | null; fetchEvents: number; fetchError: string | null;
}

// ?hub=<host:port> reads that hub cross-origin; without it, the page's own origin.
const attackScript = `
const q = new URLSearchParams(location.search);
const project = q.get("project");
const hub = q.get("hub") || location.host;
const r = window.__read = { wsOpened: false, wsItems: 0, wsClose: null, esEvents: 0, esErrors: 0, fetchStatus: null, fetchEvents: 0, fetchError: null };
const mine = (text) => text.split('"projectId":"' + project + '"').length - 1;
const url = "http://" + hub + "/api/v1/events?after=0&project=" + encodeURIComponent(project);

const ws = new WebSocket("ws://" + hub + "/hubs/events");
ws.onopen = () => {
  r.wsOpened = true;
  ws.send('{"protocol":"json","version":1}\\u001e');
  ws.send(JSON.stringify({ type: 4, invocationId: "1", target: "StreamEvents", arguments: [{ projects: [project], after: "0" }] }) + "\\u001e");
};
ws.onclose = (e) => { r.wsClose = e.code; };
ws.onmessage = (m) => { for (const f of String(m.data).split("\\u001e")) if (f.includes('"type":2')) r.wsItems += mine(f); };

const es = new EventSource(url);
es.addEventListener("session_created", (m) => { r.esEvents += mine(m.data); });
es.onerror = () => { r.esErrors++; };

fetch(url).then(async (res) => {
  r.fetchStatus = res.status;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    r.fetchEvents += mine(decoder.decode(value, { stream: true }));
  }
}).catch((e) => { r.fetchError = String(e); });
`;
const attackPage = `<!doctype html><title>not the hub</title><script>${attackScript}</script>`;

let browser: Awaited<ReturnType<typeof launchChromium>>;
let server: Server;
let rebinder: TcpServer;
let pagePort: number;
let hubPort: number;

/**
 * DNS rebinding at the TCP level, on 127.0.0.2 and the hub's port: the document request
 * ("GET /?project=...") gets the attack page and the connection is closed; every other connection is the
 * name "rebound" to 127.0.0.1, and is passed to the hub byte for byte (Host: evil.example:<hub>).
 */
function rebindingServer(port: number): Promise<TcpServer> {
  const tcp = createTcpServer((socket) => {
    socket.once("data", (first) => {
      if (/^GET \/\?project=/.test(first.toString("latin1"))) {
        socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(attackPage)}\r\nConnection: close\r\n\r\n${attackPage}`);
        return;
      }
      const hub = connect(port, "127.0.0.1", () => { hub.write(first); socket.pipe(hub).pipe(socket); });
      const close = () => { socket.destroy(); hub.destroy(); };
      hub.on("error", close); socket.on("error", close); hub.on("close", close); socket.on("close", close);
    });
  });
  return new Promise((ok, fail) => { tcp.once("error", fail); tcp.listen(port, "127.0.0.2", () => ok(tcp)); });
}

beforeAll(async () => {
  hubPort = Number(new URL(inject("hub").url).port);
  server = createServer((_req, res) => { res.writeHead(200, { "content-type": "text/html" }); res.end(attackPage); });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.2", ok));
  pagePort = (server.address() as AddressInfo).port;
  rebinder = await rebindingServer(hubPort);
  browser = await launchChromium(["--host-resolver-rules=MAP evil.example 127.0.0.2"]);
});
afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => server?.close(ok));
  await new Promise((ok) => rebinder?.close(ok));
  await closeDb();
});

const read = (page: Page) => page.evaluate(() => (window as unknown as { __read: Read }).__read);

/**
 * Opens the page at `url` (with `inject`, a page of the hub's own into which the script is
 * added) with rows written before and after it loads, and returns what it read: once it has all 4
 * of them on every transport (`expectAll`), or once every transport has been refused.
 */
async function readWith(url: string, project: string, opts: { inject?: boolean; expectAll?: boolean }): Promise<Read> {
  const page = await browser.context.newPage();
  try {
    await createProject(project);
    await createSession(project, 1);
    await createSession(project, 2);
    await page.goto(url);
    if (opts.inject) await page.addScriptTag({ content: attackScript });
    await page.waitForFunction(() => (window as unknown as { __read?: Read }).__read !== undefined);
    // The streams start from the beginning, so rows written before and after they open all count.
    await createSession(project, 3);
    await createSession(project, 4);
    if (opts.expectAll) {
      await page.waitForFunction(() => {
        const r = (window as unknown as { __read: Read }).__read;
        return r.wsItems >= 4 && r.esEvents >= 4 && r.fetchEvents >= 4;
      }, undefined, { timeout: 20_000 }).catch(async () => { throw new Error(`read only ${JSON.stringify(await read(page))}`); });
    } else {
      // A refusal is observable on every transport: the WebSocket closes, EventSource reports an
      // error (and does not retry a 403), fetch gets its status. Wait for all three, or for any
      // event read (the failure this guards against), bounded.
      await page.waitForFunction(() => {
        const r = (window as unknown as { __read: Read }).__read;
        const refused = r.wsClose !== null && r.esErrors >= 1 && (r.fetchStatus !== null || r.fetchError !== null);
        return refused || r.wsItems + r.esEvents + r.fetchEvents > 0;
      }, undefined, { timeout: 20_000 });
    }
    return await read(page);
  } finally {
    await page.close();
  }
}

const nothing = (r: Read) => ({ wsItems: r.wsItems, esEvents: r.esEvents, fetchEvents: r.fetchEvents });

describe("cross-site protection in a browser", () => {
  it("a page on another site reads nothing from the hub's WebSocket, EventSource or fetch", async () => {
    const project = uniqueProject("xsite");
    const r = await readWith(`http://evil.example:${pagePort}/?hub=127.0.0.1:${hubPort}&project=${project}`, project, {});
    expect(nothing(r)).toEqual({ wsItems: 0, esEvents: 0, fetchEvents: 0 });
    expect(r.wsOpened).toBe(false); // the upgrade itself is refused
  }, 60_000);

  it("a DNS-rebinding page (evil.example now pointing at the hub) reads nothing as same-origin", async () => {
    const project = uniqueProject("rebind");
    const r = await readWith(`http://evil.example:${hubPort}/?project=${project}`, project, {});
    expect(nothing(r)).toEqual({ wsItems: 0, esEvents: 0, fetchEvents: 0 });
    expect(r.wsOpened).toBe(false);
    expect(r.fetchStatus).toBe(403);
  }, 60_000);

  it("the hub's own pages are refused under a rebound name", async () => {
    const page = await browser.context.newPage();
    try {
      const response = await page.goto(`http://evil.example:${hubPort}/`);
      expect(response?.status()).toBe(403);
      expect(await response?.text()).toContain("Security:AllowedHosts");
    } finally {
      await page.close();
    }
  });

  it("the same page on a loopback origin (a local dashboard) reads every event over every transport", async () => {
    const project = uniqueProject("local");
    const r = await readWith(`http://127.0.0.2:${pagePort}/?hub=127.0.0.1:${hubPort}&project=${project}`, project, { expectAll: true });
    expect(r.wsOpened).toBe(true);
  }, 60_000);

  it("the same page on the hub's own origin reads every event over every transport", async () => {
    const project = uniqueProject("own");
    const r = await readWith(`${inject("hub").url}/healthz?project=${project}`, project, { inject: true, expectAll: true });
    expect(r.fetchStatus).toBe(200);
  }, 60_000);

  it("the live viewer served by the hub still streams", async () => {
    const project = uniqueProject("viewer");
    const page = await browser.context.newPage();
    try {
      await page.goto(`${inject("hub").url}/?project=${project}`);
      await page.locator("[data-testid=state]", { hasText: "live" }).waitFor({ timeout: 15_000 });
      await createProject(project);
      await createSession(project, 1);
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=events] .row").length >= 1, undefined, { timeout: 15_000 });
    } finally {
      await page.close();
    }
  }, 60_000);
});
