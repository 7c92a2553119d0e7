// The README's first example (its ```ts block at the top) is a program a reader runs as it is:
// at most ten lines, plain JavaScript (no type annotations), defining everything it calls. This
// test takes that block from README.md, points it at the test hub and a project of its own, runs
// it with `node` as an .mjs inside the repository (so `@eventhub/client` resolves through the
// workspace's node_modules to the built package), writes events, and waits for what it prints.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { EventStream } from "../../src/index.js";
import { Collector, waitUntil } from "../support/collect.js";
import { closeDb, uniqueProject, writeAllEightTypes } from "../support/db.js";
import { repoRoot } from "../support/HubProcess.js";

afterAll(closeDb);

const packageDir = join(repoRoot, "clients/typescript");

/** The README's first fenced code block. */
function firstExample(): string {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const block = /^```(?:ts|typescript|js|javascript)\n([\s\S]*?)^```$/m.exec(readme);
  if (!block) throw new Error("README.md has no code block");
  return block[1]!;
}

beforeAll(() => {
  // The example imports the package by name, which resolves to dist/: build it from the sources
  // under test (scripts/test-node.sh builds it too; this keeps a single-file run honest).
  const tsc = createRequire(join(packageDir, "package.json")).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(packageDir, "tsconfig.build.json")], { cwd: packageDir, stdio: "pipe", timeout: 110_000 });
}, 120_000);

it("the README's first example is at most ten lines", () => {
  const lines = firstExample().trimEnd().split("\n");
  expect(lines.length, lines.join("\n")).toBeLessThanOrEqual(10);
});

it("the README's first example runs as written: it narrows events by type, shows unknown types and the offset to resume from", async () => {
  const hub = inject("hub").url;
  const project = uniqueProject("readme");
  const source = firstExample();
  expect(source).toContain('"http://127.0.0.1:5080"');
  expect(source).toContain('["ao"]');
  const program = source.replaceAll('"http://127.0.0.1:5080"', JSON.stringify(hub)).replaceAll('["ao"]', JSON.stringify([project]));

  const types = await writeAllEightTypes(project); // a pr_updated (ci passing) and an unknown type among them
  // What the example must show, from a stream of the test's own: the last event's offset.
  const reference = new EventStream({ url: hub, projects: [project], after: "0", transport: "sse" });
  const collector = new Collector(reference);
  let lastOffset: string;
  try {
    lastOffset = (await collector.waitFor(types.length)).at(-1)!.offset;
  } finally {
    await reference.stop();
  }

  const dir = mkdtempSync(join(packageDir, ".readme-example-"));
  const file = join(dir, "example.mjs");
  writeFileSync(file, program);
  const child = spawn(process.execPath, [file], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let exited: string | null = null;
  const changed: Array<() => void> = [];
  const notify = () => { for (const fn of changed) fn(); };
  child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); notify(); });
  child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); notify(); });
  child.once("exit", (code, signal) => { exited = `exit code ${code}, signal ${signal}`; notify(); });
  const prLine = `https://git.example/${project}/pull/1 ci passing`;
  try {
    await waitUntil(
      () => exited !== null || stderr !== "" || (stdout.includes(prLine) && stdout.includes("tracker_issue_opened") && stdout.includes(lastOffset)),
      (fn) => changed.push(fn), 20_000, () => `the example printed:\n${stdout}\nstderr:\n${stderr}`);
    expect(stderr, `stdout:\n${stdout}`).toBe("");
    expect(exited, `stdout:\n${stdout}`).toBeNull();
    expect(stdout).toContain(prLine); // narrowed to pr_updated: payload.url and payload.ci
    expect(stdout).toMatch(/new kind of event: tracker_issue_opened .*TRK-7/); // an unknown type, not an error
    expect(stdout).toContain(lastOffset); // the offset to resume from
  } finally {
    if (exited === null) {
      const gone = new Promise((ok) => child.once("exit", ok));
      child.kill("SIGTERM");
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  expect(stderr).toBe("");
});
