// Both clients classify the ways a stream ends the same: this test and the .NET client's
// ErrorClassificationTests run every case of clients/error-classification-cases.json.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { EventStreamError } from "../../src/index.js";
import { fromHttpStatus, fromSignalRError, parseResetFrame, parseStreamErrorFrame, signalFromItem } from "../../src/transports/hubErrors.js";
import { repoRoot } from "../support/HubProcess.js";

interface Case {
  name: string;
  signal?: { type: string; code: string; message: string; offset?: string };
  hubError?: string;
  negotiateStatus?: number;
  code?: string | null;
  expect: string;
}

const cases = (JSON.parse(readFileSync(resolve(repoRoot, "clients/error-classification-cases.json"), "utf8")) as { cases: Case[] }).cases;

/** The cases file's name for what the stream does with an error. */
function outcome(error: EventStreamError): string {
  return error.retry === "never" ? "stop" : `retry_${error.retry}`;
}

describe("classification of the shared cases", () => {
  it.each(cases.filter((c) => c.signal).map((c) => [c.name, c] as const))("%s (SignalR final item and SSE frame alike)", (_name, c) => {
    const s = c.signal!;
    const payload = s.type === "reset" ? { reason: s.code, message: s.message, offset: s.offset } : { error: { code: s.code, message: s.message } };
    const item = signalFromItem({ seq: 0, projectId: "", type: s.type, payload, createdAt: new Date(), offset: s.offset ?? "" });
    expect(item).not.toBeNull();
    if (c.expect === "reset") {
      expect(item).toEqual({ reset: { reason: s.code, message: s.message, offset: s.offset } });
      expect(parseResetFrame(JSON.stringify(payload))).toEqual({ reason: s.code, message: s.message, offset: s.offset });
      return;
    }
    expect("error" in item!).toBe(true);
    const error = (item as { error: EventStreamError }).error;
    expect([error.code, outcome(error)]).toEqual([s.code, c.expect]);
    const frame = parseStreamErrorFrame(JSON.stringify(payload));
    expect([frame.code, outcome(frame)]).toEqual([s.code, c.expect]);
  });

  it.each(cases.filter((c) => c.hubError !== undefined).map((c) => [c.name, c] as const))("%s (HubException outside a stream)", (_name, c) => {
    const error = fromSignalRError(new Error(c.hubError));
    expect(outcome(error)).toBe(c.expect);
    if (c.code !== null && c.code !== undefined) expect(error.code).toBe(c.code);
    else expect(error.code).toBe("transport");
  });

  it.each(cases.filter((c) => c.negotiateStatus !== undefined).map((c) => [c.name, c] as const))("%s (SignalR negotiation)", (_name, c) => {
    const error = fromHttpStatus(c.negotiateStatus!, "negotiation refused");
    expect(outcome(error)).toBe(c.expect);
    if (c.code !== null && c.code !== undefined) expect(error.code).toBe(c.code);
  });
});
