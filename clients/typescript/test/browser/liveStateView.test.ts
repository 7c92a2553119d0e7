// The viewer's second view (`?view=state`): the live state of the selected project, in a real
// headless Chromium against the real hub, over SSE and SignalR. What is written after the page
// opened shows up in place (sessions' activity, a PR's CI, checks and review), and a thread that is
// resolved leaves the open-threads list.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { closeDb, createSession, db, loggedSeqs, uniqueProject, writeAllEightTypes } from "../support/db.js";
import { repoRoot } from "../support/HubProcess.js";

let browser: Awaited<ReturnType<typeof launchChromium>>;

beforeAll(async () => { browser = await launchChromium(); });
afterAll(async () => {
  await browser?.close();
  await closeDb();
});

const WAIT = { timeout: 15_000 };

describe.each([["SSE", "sse"], ["SignalR", "signalr"]])("the live state view over %s", (name, transport) => {
  let page: Page;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => { await page?.close(); });

  it("shows the project's state as loaded, then every later write in place; a resolved thread leaves the open list", async () => {
    const project = uniqueProject("state");
    await writeAllEightTypes(project); // history: two sessions, a PR (moved to session 2), a failed check, a resolved thread
    const pr = `https://git.example/${project}/pull/1`;
    await db().query("UPDATE pr SET ci_state = 'failing' WHERE url = $1", [pr]); // after the move, so the PR's status is in the state
    await db().query("INSERT INTO pr_review_threads (pr_url, thread_id, path, line) VALUES ($1, 'old-open', 'src/b.ts', 7)", [pr]);
    await loggedSeqs(project); // the page's load holds what is in a tick: all of the history, checked at once below

    await page.goto(`${inject("hub").url}/?view=state&project=${project}&transport=${transport}`);
    await page.locator("[data-testid=state]", { hasText: "live" }).waitFor(WAIT);
    const sessions = page.locator("[data-testid=sessions] .session");
    const prRow = page.locator(`[data-testid=prs] .pr[data-url="${pr}"]`);
    const open = page.locator("[data-testid=threads] .thread");

    // As loaded: the state of the history.
    await page.locator(`[data-testid=sessions] .session[data-id="${project}-1"][data-activity=waiting_input]`).waitFor(WAIT);
    expect(await sessions.count()).toBe(2);
    expect(await prRow.getAttribute("data-ci")).toBe("failing");
    expect(await prRow.locator(".check[data-check=build]").getAttribute("data-status")).toBe("failed");
    expect(await open.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-thread")))).toEqual(["old-open"]); // t1 is resolved
    expect(await page.locator("[data-testid=loads]").getAttribute("data-count")).toBe("1");

    // Written after the page opened: each appears in the state view.
    await createSession(project, 3);
    await db().query("UPDATE sessions SET activity_state = 'blocked' WHERE id = $1", [`${project}-3`]);
    await db().query("UPDATE pr SET ci_state = 'passing', review_decision = 'changes_requested' WHERE url = $1", [pr]);
    await db().query("UPDATE pr_checks SET status = 'passed' WHERE pr_url = $1 AND name = 'build'", [pr]);
    await db().query("INSERT INTO pr_checks (pr_url, name, commit_hash, status) VALUES ($1, 'lint', 'def456', 'in_progress')", [pr]);
    await db().query("INSERT INTO pr_review_threads (pr_url, thread_id, path, line) VALUES ($1, 'new-open', 'src/c.ts', 3)", [pr]);

    await page.locator(`[data-testid=sessions] .session[data-id="${project}-3"][data-activity=blocked]`).waitFor(WAIT);
    await page.locator(`[data-testid=prs] .pr[data-url="${pr}"][data-ci=passing][data-review=changes_requested]`).waitFor(WAIT);
    await prRow.locator(".check[data-check=build][data-status=passed]").waitFor(WAIT);
    await prRow.locator(".check[data-check=lint][data-status=in_progress]").waitFor(WAIT);
    await page.locator("[data-testid=threads] .thread[data-thread=new-open]").waitFor(WAIT);
    expect(await open.count()).toBe(2);
    expect(await sessions.count()).toBe(3);

    // Resolving a thread removes it from the open list; the PR's count follows.
    await db().query("UPDATE pr_review_threads SET resolved = true WHERE pr_url = $1 AND thread_id = 'old-open'", [pr]);
    await page.locator("[data-testid=threads] .thread[data-thread=old-open]").waitFor({ state: "detached", ...WAIT });
    expect(await open.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-thread")))).toEqual(["new-open"]);
    await page.locator(`[data-testid=prs] .pr[data-url="${pr}"][data-open-threads="1"]`).waitFor(WAIT);
    // Another project's writes stay out of this project's view.
    const other = uniqueProject("other");
    await writeAllEightTypes(other);
    await createSession(project, 4); // written after the other project's: once it shows, the other's have been streamed too
    await page.locator(`[data-testid=sessions] .session[data-id="${project}-4"]`).waitFor(WAIT);
    expect(await sessions.count()).toBe(4);
    expect(await page.locator("[data-testid=loads]").getAttribute("data-count")).toBe("1"); // kept current by the stream, never reloaded

    const dir = join(repoRoot, "TestResults");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `viewer-state-${transport}.png`) });
    expect(pageErrors, name).toEqual([]);
  });
});
