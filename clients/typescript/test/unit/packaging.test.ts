// What `npm pack` of @eventhub/client ships, from a tree with no dist/ (a fresh clone: dist/ is
// not committed): the built code of both entry points, with types that resolve under
// TypeScript's `nodenext` and its legacy `node10` (`moduleResolution: "node"`, which ignores
// `exports`; `typesVersions` maps `@eventhub/client/react` there). The package's files are
// copied into a temporary directory inside the repository (so the build and the consumer find the
// workspace's node_modules), packed there, and the tarball is unpacked into a consumer's
// node_modules outside the repository: what a user installs, not this checkout's dist/.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/HubProcess.js";

const packageDir = join(repoRoot, "clients/typescript");
const tsc = createRequire(join(packageDir, "package.json")).resolve("typescript/bin/tsc");
// npm's variables from an enclosing `npm run`/`npx` (a workspace among them) must not steer the pack.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));

let dir = "";
let tarball = "";
let files: string[] = [];
const consumers: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(packageDir, ".pack-check-"));
  const pkg = join(dir, "pkg");
  mkdirSync(pkg);
  for (const f of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "src"]) cpSync(join(packageDir, f), join(pkg, f), { recursive: true });
  const out = join(dir, "out");
  mkdirSync(out);
  execFileSync("npm", ["pack", "--pack-destination", out, "--loglevel=error"], { cwd: pkg, env, stdio: "pipe", timeout: 110_000 });
  tarball = join(out, readdirSync(out).find((f) => f.endsWith(".tgz"))!);
  files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean).map((f) => f.replace(/^package\//, ""));
}, 120_000);
afterAll(() => { for (const d of [dir, ...consumers]) if (d) rmSync(d, { recursive: true, force: true }); });

/** Unpacks the tarball into a consumer project and type-checks a file importing both entry points. */
function typeCheck(compilerOptions: Record<string, unknown>): string {
  // Outside the repository, so that only the unpacked package can answer for @eventhub/client
  // (TypeScript would go on to the workspace's link in an ancestor's node_modules); its
  // dependencies (@microsoft/signalr, @types/react, ...) are links to the workspace's.
  const consumer = mkdtempSync(join(tmpdir(), "eventhub-consumer-"));
  consumers.push(consumer);
  const modules = join(consumer, "node_modules");
  mkdirSync(modules);
  for (const name of readdirSync(join(repoRoot, "node_modules"))) {
    if (name !== "@eventhub" && name !== ".bin") symlinkSync(join(repoRoot, "node_modules", name), join(modules, name));
  }
  const installed = join(modules, "@eventhub/client");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  writeFileSync(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  writeFileSync(join(consumer, "index.ts"), [
    'import { EventStream, isEventType } from "@eventhub/client";',
    'import { useEventStream, useLiveState } from "@eventhub/client/react";',
    "type IsAny<T> = 0 extends 1 & T ? true : false; // a module that did not resolve would give any",
    "export const resolved: [IsAny<typeof EventStream>, IsAny<typeof useEventStream>, IsAny<typeof useLiveState>] = [false, false, false];",
    'export const stream: EventStream = new EventStream({ url: "http://127.0.0.1:5080", transport: "sse" });',
    "export { isEventType };",
    "",
  ].join("\n"));
  writeFileSync(join(consumer, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", lib: ["ES2022", "DOM"], strict: true, noEmit: true, types: [], ...compilerOptions },
    files: ["index.ts"],
  }));
  try {
    execFileSync(process.execPath, [tsc, "-p", consumer], { cwd: consumer, encoding: "utf8", stdio: "pipe", timeout: 60_000 });
    return "";
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    return `${err.stdout ?? ""}${err.stderr ?? ""}` || err.message;
  }
}

describe("the packed @eventhub/client", () => {
  it("contains the built code and types of both entry points (prepack builds it)", () => {
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/react/index.js", "dist/react/index.d.ts"]) {
      expect(files, `the tarball holds only: ${files.join(", ")}`).toContain(f);
    }
  });

  it("type-checks both entry points under moduleResolution nodenext", () => {
    expect(typeCheck({ module: "NodeNext", moduleResolution: "NodeNext" })).toBe("");
  });

  it("type-checks both entry points under the legacy moduleResolution node10 (typesVersions)", () => {
    expect(typeCheck({ module: "ESNext", moduleResolution: "node10" })).toBe("");
  });
});
