import { describe, expect, expectTypeOf, it } from "vitest";
import { keyEvent } from "../../src/state/keyEvent.js";
import {
  decodeEvent, EventDecodeError, eventFamilyOf, isCheckEvent, isEventType, isKnownEvent, isPrEvent,
  isReviewThreadEvent, isSessionEvent, KNOWN_EVENT_TYPES, type EventHubEvent, type PrUpdatedEvent,
} from "../../src/index.js";

const wire = {
  seq: 42, projectId: "ao", sessionId: "ao-3", type: "pr_updated",
  payload: { url: "u", session: "ao-3", state: "open", ci: "passing", review: "approved", mergeability: "mergeable" },
  createdAt: "2026-06-05T10:00:00Z", offset: "e.1.42",
};

describe("decodeEvent", () => {
  it("turns the JSON wire shape into an event with a Date", () => {
    const e = decodeEvent(wire);
    expect(e).toEqual({ ...wire, createdAt: new Date("2026-06-05T10:00:00Z") });
  });

  it("accepts the MessagePack shapes: Date createdAt, bigint seq, Map payload", () => {
    const e = decodeEvent({ ...wire, seq: 42n, createdAt: new Date(0), payload: new Map([["url", "u"]]) });
    expect(e.seq).toBe(42);
    expect(e.createdAt.getTime()).toBe(0);
    expect(e.payload).toEqual({ url: "u" });
  });

  it("passes an unknown type through and treats a missing sessionId as null", () => {
    const { sessionId: _omitted, ...rest } = wire;
    const e = decodeEvent({ ...rest, type: "tracker_created", payload: { x: 1 } });
    expect(e.type).toBe("tracker_created");
    expect(e.sessionId).toBeNull();
    expect(isKnownEvent(e)).toBe(false);
    expect(eventFamilyOf(e.type)).toBe("other");
  });

  it.each([
    ["an array", [1, 2]],
    ["a string that is not JSON", "not json"],
    ["a JSON text of an array", "[1]"],
    ["null", null],
    ["a number", 7],
  ])("passes a payload that is %s through as it came, for an unknown type and a known one alike", (_what, payload) => {
    // Throwing stopped the stream at that row of the log on every resume: a poison pill.
    for (const type of ["tracker_created", "pr_updated"]) {
      const e = decodeEvent({ ...wire, type, payload });
      expect(e.type).toBe(type);
      expect(e.payload as unknown).toEqual(payload);
    }
  });

  it.each([
    ["no offset", { ...wire, offset: undefined }],
    ["no type", { ...wire, type: "" }],
    ["a bad date", { ...wire, createdAt: "yesterday" }],
    ["not an object", "text"],
  ])("rejects a frame with %s", (_what, frame) => {
    expect(() => decodeEvent(frame)).toThrow(EventDecodeError);
  });
});

describe("type guards", () => {
  it("narrow on type", () => {
    const e: EventHubEvent = decodeEvent(wire);
    if (isEventType(e, "pr_updated")) expectTypeOf(e).toEqualTypeOf<PrUpdatedEvent>();
    if (isKnownEvent(e) && e.type === "pr_check_recorded") expectTypeOf(e.payload.status).toEqualTypeOf<
      "unknown" | "queued" | "in_progress" | "passed" | "failed" | "skipped" | "cancelled">();
    expect(isEventType(e, "pr_updated")).toBe(true);
    expect(isPrEvent(e)).toBe(true);
    expect(isSessionEvent(e) || isCheckEvent(e) || isReviewThreadEvent(e)).toBe(false);
  });

  it("sort every known type into exactly one family", () => {
    expect(KNOWN_EVENT_TYPES.map(eventFamilyOf)).toEqual(
      ["session", "session", "pr", "pr", "pr", "check", "review_thread", "review_thread"]);
  });
});

describe("keying an event whose payload is not an object", () => {
  it("finds no key fields, as the hub's key of it, and does not throw", () => {
    const keys = { pr_updated: { kind: "pr", fields: ["url"] } };
    for (const payload of [null, [1], "text", 7]) {
      const entity = keyEvent(decodeEvent({ ...wire, type: "pr_updated", payload }), keys);
      expect(entity?.keyValues).toEqual([null]);
    }
  });
});
