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
