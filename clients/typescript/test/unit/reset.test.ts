import { describe, expect, it } from "vitest";
import { decodeEvent, isChangeEvent, isEventType, isKnownEvent, isStreamReset, isUnknownEvent, type StreamReset } from "../../src/index.js";
import { parseResetError, parseResetFrame } from "../../src/transports/hubErrors.js";

describe("the reset signal", () => {
  it("is read from the SignalR stream error, with its reason and the offset to continue from", () => {
    expect(parseResetError(new Error("An unexpected error occurred invoking 'StreamEvents' on the server. HubException: reset: offset_pruned: Events after this offset were pruned. Continue from offset e1f2.9.9.")))
      .toEqual({ reason: "offset_pruned", message: "Events after this offset were pruned.", offset: "e1f2.9.9" });
    expect(parseResetError(new Error("reset: offset_from_another_log: Another log. Continue from offset 0.")))
      .toEqual({ reason: "offset_from_another_log", message: "Another log.", offset: "0" });
    expect(parseResetError(new Error("HubException: invalid_offset: 'x' is not an offset."))).toBeNull();
    expect(parseResetError(new Error("The server ended this stream. Resume by calling StreamEvents again"))).toBeNull();
  });

  it("is read from the SSE reset frame", () => {
    expect(parseResetFrame('{"reason":"offset_pruned","message":"m","offset":"e.1.2"}')).toEqual({ reason: "offset_pruned", message: "m", offset: "e.1.2" });
    expect(() => parseResetFrame('{"message":"m"}')).toThrow(/reset frame/);
  });

  it("is told apart from events by the guards", () => {
    const reset: StreamReset = { kind: "reset", reason: "offset_pruned", message: "", offset: "e.1.2", previousOffset: null, projects: [], receivedAt: new Date() };
    const event = decodeEvent({ seq: 1, projectId: "p", type: "pr_updated", payload: {}, createdAt: new Date(), offset: "e.1.1" });
    expect([isStreamReset(reset), isChangeEvent(reset), isKnownEvent(reset), isUnknownEvent(reset), isEventType(reset, "pr_updated")])
      .toEqual([true, false, false, false, false]);
    expect([isStreamReset(event), isChangeEvent(event), isKnownEvent(event), isEventType(event, "pr_updated")]).toEqual([false, true, true, true]);
  });
});
