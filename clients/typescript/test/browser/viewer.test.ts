// The live event viewer, served by the hub at "/", in a real headless Chromium.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { KNOWN_EVENT_TYPES } from "../../src/index.js";
import { viewerPage } from "../support/browser.js";
import { closeDb, createProject, createSession, db, uniqueProject, writeAllEightTypes } from "../support/db.js";
import { repoRoot } from "../support/HubProcess.js";

const viewer = viewerPage();
const pageErrors = viewer.pageErrors;
let page: Page;
beforeAll(() => { page = viewer.page(); });
afterAll(closeDb);

const rowCount = () => page.locator("[data-testid=events] .row").count();

describe("the live event viewer", () => {
  it("offers every registered project in its picker, one without any event among them, and streams the one picked", async () => {
    // The picker once offered only projects whose events the page had received: a project with no
    // event yet, or none among the newest 500, could not be picked at all.
    const quiet = uniqueProject("quiet");
    await db().query("INSERT INTO projects (id, path, display_name) VALUES ($1, '/src/q', 'Quiet project')", [quiet]);
    const busy = uniqueProject("busy");
    await createProject(busy);
    await createSession(busy, 1);
    await page.goto(`${inject("hub").url}/?project=${busy}`);
    const option = page.locator(`[data-testid=project] option[value="${quiet}"]`);
    await option.waitFor({ state: "attached", timeout: 15_000 });
    expect(await option.textContent()).toBe(`${quiet} — Quiet project`);

    await page.locator("[data-testid=project]").selectOption(quiet);
    await page.waitForURL((u) => u.searchParams.get("project") === quiet, { timeout: 5_000 });
    await page.locator("[data-testid=state]", { hasText: "live" }).waitFor({ timeout: 15_000 });
    await createSession(quiet, 1);
    await page.locator(`[data-testid=events] .row[data-project="${quiet}"]`).waitFor({ timeout: 15_000 });
    expect(await page.locator(`[data-testid=events] .row:not([data-project="${quiet}"])`).count()).toBe(0);
    expect(pageErrors).toEqual([]);
  });

  it("shows a row whose payload is not an object, and the rows after it, and the state view stays up", async () => {
    // Such a payload (the contract rules it out) once stopped the client's stream at that row; a
    // row summary that read its fields would take the page down.
    const project = uniqueProject("oddview");
    await createProject(project);
    await db().query("INSERT INTO change_log (project_id, event_type, payload) VALUES ($1, 'pr_check_recorded', 'null'::jsonb)", [project]);
    await createSession(project, 1);
    await page.goto(`${inject("hub").url}/?project=${project}`);
    await page.locator("[data-testid=events] .row[data-type=session_created]").waitFor({ timeout: 15_000 });
    expect(await page.locator("[data-testid=events] .row[data-type=pr_check_recorded]", { hasText: "null" }).count()).toBe(1);
    await page.goto(`${inject("hub").url}/?project=${project}&view=state`);
    await page.locator("[data-testid=sessions]", { hasText: `${project}-1` }).waitFor({ timeout: 15_000 });
    expect(pageErrors).toEqual([]);
  });

  it("shows rows as they are written, newest first, and keeps a screenshot", async () => {
    const project = uniqueProject("webapp");
    await page.goto(`${inject("hub").url}/?project=${project}`);
    await page.locator("[data-testid=state]", { hasText: "live" }).waitFor({ timeout: 15_000 });

    const types = await writeAllEightTypes(project);
    for (let i = 3; i <= 6; i++) await createSession(project, i);
    await db().query("UPDATE sessions SET activity_state = 'blocked' WHERE id = $1", [`${project}-3`]);
    const total = types.length + 5;
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=events] .row").length >= n, total, { timeout: 15_000 });

    const rowTypes = await page.locator("[data-testid=events] .row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")));
    expect(rowTypes).toHaveLength(total);
    expect(rowTypes[0]).toBe("session_updated"); // the newest first
    expect(rowTypes.at(-1)).toBe("session_created"); // the oldest last
    for (const t of KNOWN_EVENT_TYPES) expect(rowTypes).toContain(t);
    expect(rowTypes).toContain("tracker_issue_opened");
    // session_updated shows the session's preview (issue 15).
    await page.locator("[data-testid=events] .row[data-type=session_updated]", { hasText: `preview.example/${project}-1 r3` }).waitFor({ timeout: 5_000 });
    const offset = await page.locator("[data-testid=offset]").textContent();
    expect(offset).not.toBe(""); // opaque: shown, never parsed
    expect(await page.locator("[data-testid=received]").getAttribute("data-count")).toBe(String(total));

    const dir = join(repoRoot, "TestResults");
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, "viewer.png") });
    expect(pageErrors).toEqual([]);
  });

  it("pauses, and on resume shows what was written meanwhile, once", async () => {
    const before = await rowCount();
    const project = new URL(page.url()).searchParams.get("project")!;
    await page.locator("[data-testid=pause]").click();
    await page.locator("[data-testid=state]", { hasText: "paused" }).waitFor({ timeout: 5_000 });
    await createSession(project, 20);
    await createSession(project, 21);
    await page.locator("[data-testid=pause]").click();
    await page.locator("[data-testid=state]", { hasText: "live" }).waitFor({ timeout: 15_000 });
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=events] .row").length >= n, before + 2, { timeout: 15_000 });
    const seqs = await page.locator("[data-testid=events] .row .seq").allTextContents();
    expect(seqs).toHaveLength(before + 2);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(pageErrors).toEqual([]);
  });

  it("caps the list at 500 rows when a burst of 600 events arrives, and counts them all", async () => {
    const project = new URL(page.url()).searchParams.get("project")!;
    const received = async () => Number(await page.locator("[data-testid=received]").getAttribute("data-count"));
    const before = await received();
    await db().query(
      "INSERT INTO sessions (id, project_id, num) SELECT $1 || '-' || g, $1, g FROM generate_series(1000, 1599) AS g", [project]);
    // The wait is only a bound: a tighter limit on a browser beside another test file measured the
    // machine's load, not the page (the bench measures speed).
    await page.waitForFunction((n) => document.querySelector("[data-testid=received]")?.getAttribute("data-count") === n,
      String(before + 600), { timeout: 20_000 });
    expect(await rowCount()).toBe(500);
    expect(await page.locator("[data-testid=events] .row .where").first().getAttribute("title")).toBe(`${project}-1599`);
    await page.locator("text=Showing the newest 500 of").waitFor({ timeout: 5_000 });
    expect(pageErrors).toEqual([]);
  });
});
