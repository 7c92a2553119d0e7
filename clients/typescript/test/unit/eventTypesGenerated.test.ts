// The TypeScript event types are generated from the one description (Contracts/event-types.json);
// the committed file must be what the generator makes of the description today.
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { KNOWN_EVENT_TYPES } from "../../src/index.js";
import { repoRoot } from "../support/HubProcess.js";
import { readFileSync } from "node:fs";

describe("the generated event types", () => {
  it("are what the generator makes of Contracts/event-types.json", () => {
    const script = resolve(repoRoot, "clients/typescript/scripts/generate-event-types.mjs");
    // --check exits 1 (and execFileSync throws) when the committed file differs.
    expect(() => execFileSync(process.execPath, [script, "--check"], { stdio: "pipe" })).not.toThrow();
  });

  it("list the description's types in its order", () => {
    const description = JSON.parse(readFileSync(resolve(repoRoot, "Contracts/event-types.json"), "utf8")) as { types: Array<{ type: string }> };
    expect([...KNOWN_EVENT_TYPES]).toEqual(description.types.map((t) => t.type));
  });
});
