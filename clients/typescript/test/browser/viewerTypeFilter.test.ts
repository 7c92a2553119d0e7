// The viewer's type filter in a real headless Chromium: turning chips off narrows the stream, and
// the last selected type cannot be turned off. "No type selected" would mean "every type" in the
// URL (no `type` parameter), so turning the last chip off used to show everything again.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { viewerPage } from "../support/browser.js";
import { closeDb, uniqueProject, writeAllEightTypes } from "../support/db.js";

const viewer = viewerPage();
const pageErrors = viewer.pageErrors;
let page: Page;
beforeAll(() => { page = viewer.page(); });
afterAll(closeDb);

const chip = (label: string) => page.locator(".types button", { hasText: label });
const rowTypes = () => page.locator("[data-testid=events] .row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-type")));
const pressed = () => page.locator(".types button[aria-pressed=true]").allTextContents();

describe("the viewer's type filter", () => {
  it("keeps the last selected type: its chip is disabled, and clicking it does not drop the filter", async () => {
    const project = uniqueProject("chips");
    await writeAllEightTypes(project);
    await page.goto(`${inject("hub").url}/?project=${project}&type=pr_updated`);
    await page.locator("[data-testid=state]", { hasText: "live" }).waitFor({ timeout: 15_000 });
    await page.locator("[data-testid=events] .row[data-type=pr_updated]").waitFor({ timeout: 15_000 });
    expect(await pressed()).toEqual(["PR updated"]);

    // The only selected chip: a click (forced past a disabled button) must not drop the filter.
    await chip("PR updated").click({ force: true, timeout: 5_000 });
    // A second type: both are selected. Had the click above dropped the filter (no `type` in the
    // URL: every type), every chip would be on and this click would turn "PR created" off.
    const before = await page.evaluate(() => location.search);
    await chip("PR created").click({ timeout: 5_000 });
    await page.waitForFunction((s) => location.search !== s, before, { timeout: 5_000 });
    expect(new URLSearchParams(await page.evaluate(() => location.search)).getAll("type")).toEqual(["pr_updated", "pr_created"]);
    expect(await pressed()).toEqual(["PR created", "PR updated"]);
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=events] .row").length >= 2, undefined, { timeout: 15_000 });
    expect((await rowTypes()).sort()).toEqual(["pr_created", "pr_updated"]);
    expect(await page.locator(".types button:disabled").count()).toBe(0); // two selected: either can go

    // "PR updated" off again: "PR created" is the last one, and its chip is disabled and says why.
    await chip("PR updated").click({ timeout: 5_000 });
    await page.waitForFunction(() => new URLSearchParams(location.search).getAll("type").join() === "pr_created", undefined, { timeout: 5_000 });
    expect(await pressed()).toEqual(["PR created"]);
    expect(await chip("PR created").isDisabled()).toBe(true);
    expect(await chip("PR created").getAttribute("title")).toMatch(/at least one type stays selected/i);
    expect(await page.locator(".types button:disabled").count()).toBe(1);
    expect(pageErrors).toEqual([]);
  });
});
