// The viewer's bundle is committed in Hub/wwwroot (a fresh clone's hub serves it without a
// Node build). This test fails when it is stale: rebuild with `npm run build:viewer -w @eventhub/client`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { repoRoot } from "../support/HubProcess.js";

it("the committed viewer bundle in Hub/wwwroot is what the sources build", () => {
  const out = mkdtempSync(join(tmpdir(), "eventhub-viewer-"));
  try {
    execFileSync(process.execPath, [join(repoRoot, "clients/typescript/scripts/build-viewer.mjs"), "--out", out], { timeout: 60_000 });
    for (const file of ["index.html", "viewer.js", "viewer.css"]) {
      const committed = readFileSync(join(repoRoot, "Hub/wwwroot", file), "utf8");
      const fresh = readFileSync(join(out, file), "utf8");
      expect(committed === fresh, `Hub/wwwroot/${file} is stale: run 'npm run build:viewer -w @eventhub/client'`).toBe(true);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
