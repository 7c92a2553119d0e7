// Starts one hub with a private PostgreSQL cluster in a temporary directory for all suites, and
// stops it (SIGTERM: it stops the cluster) at the end. Suites get the addresses with inject().
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { freePort, hubDll, HubProcess, repoRoot } from "./HubProcess.js";

/** What the suites receive. */
export interface TestHub {
  /** The hub's base address. */
  url: string;
  /** The private cluster's connection (database eventhub). */
  pg: { host: string; port: number; user: string; password: string; database: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    hub: TestHub;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!existsSync(hubDll)) {
    execFileSync("dotnet", ["build", join(repoRoot, "Hub"), "-nologo", "-v", "q"], { stdio: "inherit", timeout: 300_000 });
  }
  const dir = mkdtempSync(join(tmpdir(), "eventhub-ts-"));
  const hub = await HubProcess.start(await freePort(), { "EmbeddedPostgres:Directory": dir });
  const pid = readFileSync(join(dir, "pgdata", "postmaster.pid"), "utf8").split("\n");
  project.provide("hub", {
    url: hub.url,
    pg: { host: "127.0.0.1", port: Number(pid[3]), user: "postgres", password: readFileSync(join(dir, "password"), "utf8").trim(), database: "eventhub" },
  });
  return async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
