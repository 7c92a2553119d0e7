// Debian's Chromium, driven by playwright-core (no browser download).
import { afterAll, beforeAll } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** A headless Chromium with a fresh profile; `close` removes the profile. `extraArgs` are added to the flags. */
export async function launchChromium(extraArgs: string[] = []): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "eventhub-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", ...extraArgs],
    viewport: { width: 1400, height: 860 },
    timeout: 30_000,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A Chromium with one page for the suites that drive the viewer, closed after the file's tests;
 * `pageErrors` collects the page's uncaught errors (each test checks it stays empty).
 */
export function viewerPage(): { page: () => Page; pageErrors: string[] } {
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  let page: Page | undefined;
  const pageErrors: string[] = [];
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
  });
  afterAll(async () => { await browser?.close(); });
  return { page: () => page!, pageErrors };
}
