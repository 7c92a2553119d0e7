import { describe, expect, it } from "vitest";
import { decodeEvent } from "../../src/index.js";
import { summarize } from "../../viewer/summarize.js";

const sessionUpdated = (payload: Record<string, unknown>) =>
  decodeEvent({ seq: 1, projectId: "p", sessionId: "p-1", type: "session_updated", payload, createdAt: new Date(), offset: "opaque" });

describe("the viewer's row summary of session_updated", () => {
  it("shows the preview URL and revision once the session has a preview", () => {
    const parts = summarize(sessionUpdated({ id: "p-1", activity: "idle", isTerminated: false, previewUrl: "https://preview.example/p-1", previewRevision: 3 }));
    expect(parts).toContainEqual({ label: "preview", value: "https://preview.example/p-1 r3" });
    expect(parts[0]).toMatchObject({ label: "activity", value: "idle" });
  });

  it("shows no preview before there is one", () => {
    const parts = summarize(sessionUpdated({ id: "p-1", activity: "active", isTerminated: false, previewUrl: null, previewRevision: 0 }));
    expect(parts.map((p) => p.label)).toEqual(["activity"]);
  });
});

describe("the viewer's row summary of a payload the contract rules out", () => {
  const event = (type: string, payload: unknown) =>
    decodeEvent({ seq: 1, projectId: "p", sessionId: null, type, payload, createdAt: new Date(), offset: "opaque" });

  it("shows a payload that is not an object as its JSON, whatever the type, and never throws", () => {
    // A row that threw here took the whole page down (React unmounts on a render error).
    expect(summarize(event("session_created", null))).toEqual([{ value: "null", tone: "muted" }]);
    expect(summarize(event("pr_updated", [1, 2]))).toEqual([{ value: "[1,2]", tone: "muted" }]);
    expect(summarize(event("pr_check_recorded", "text"))).toEqual([{ value: "\"text\"", tone: "muted" }]);
  });

  it("shows a known type's object payload that lacks its fields without throwing", () => {
    expect(() => summarize(event("pr_check_recorded", {}))).not.toThrow();
  });
});
