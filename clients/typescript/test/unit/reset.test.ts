import { describe, expect, it } from "vitest";
import { decodeEvent, isChangeEvent, isEventType, isKnownEvent, isStreamReset, isUnknownEvent, type StreamReset } from "../../src/index.js";
import { parseResetFrame, signalFromItem } from "../../src/transports/hubErrors.js";

describe("the reset signal", () => {
  it("is read from the SignalR stream's final reset item, whose payload is the SSE frame's data", () => {
    const item = { seq: 0, projectId: "", type: "reset", payload: { reason: "offset_pruned", message: "Pruned.", offset: "opaque-1" }, createdAt: new Date(), offset: "opaque-1" };
    expect(signalFromItem(item)).toEqual({ reset: { reason: "offset_pruned", message: "Pruned.", offset: "opaque-1" } });
    expect(signalFromItem({ ...item, type: "pr_updated" })).toBeNull();
    expect(() => signalFromItem({ ...item, payload: { message: "m" } })).toThrow(/reset without a reason or an offset/);
  });

  it("is read from the SSE reset frame", () => {
    expect(parseResetFrame('{"reason":"offset_pruned","message":"m","offset":"e.1.2"}')).toEqual({ reason: "offset_pruned", message: "m", offset: "e.1.2" });
    expect(() => parseResetFrame('{"message":"m"}')).toThrow(/reset without a reason or an offset/);
  });

  it("is told apart from events by the guards", () => {
    const reset: StreamReset = { kind: "reset", reason: "offset_pruned", message: "", offset: "e.1.2", previousOffset: null, projects: [], receivedAt: new Date() };
    const event = decodeEvent({ seq: 1, projectId: "p", type: "pr_updated", payload: {}, createdAt: new Date(), offset: "e.1.1" });
    expect([isStreamReset(reset), isChangeEvent(reset), isKnownEvent(reset), isUnknownEvent(reset), isEventType(reset, "pr_updated")])
      .toEqual([true, false, false, false, false]);
    expect([isStreamReset(event), isChangeEvent(event), isKnownEvent(event), isEventType(event, "pr_updated")]).toEqual([false, true, true, true]);
  });
});
