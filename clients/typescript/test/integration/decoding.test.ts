import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import {
  EventStream, isEventType, isKnownEvent, isUnknownEvent, type EventHubEvent,
} from "../../src/index.js";
import { Collector } from "../support/collect.js";
import { closeDb, createProject, createSession, db, uniqueProject, writeAllEightTypes } from "../support/db.js";
import { repoRoot } from "../support/HubProcess.js";
import { allTransports } from "../support/transports.js";

afterAll(closeDb);

const description = JSON.parse(readFileSync(resolve(repoRoot, "Contracts/event-types.json"), "utf8")) as
  { types: Array<{ type: string; payload: Array<{ name: string }> }> };

describe.each(allTransports)("decoding over %s", (_name, transport) => {
  it("delivers all eight event types typed, and an unknown type untouched, in log order", async () => {
    const project = uniqueProject("dec");
    const types = await writeAllEightTypes(project);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], after: "0", ...transport });
    const collector = new Collector(stream);
    try {
      const events = await collector.waitFor(types.length);
      expect(events.map((e) => e.type)).toEqual(types);
      checkEvents(events, project);
      expect(stream.offset).toBe(events.at(-1)!.offset);
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
    } finally {
      await stream.stop();
    }
  });

  it("passes rows whose payload is not an object through as they came, and goes on past them", async () => {
    // The contract rules such payloads out, but a trigger that writes one puts it in the log: the
    // stream stopped at that row, and at it again on every resume.
    const project = uniqueProject("odd");
    await createProject(project);
    for (const [type, payload] of [["tracker_listed", "[1,2]"], ["pr_updated", '"text"'], ["tracker_empty", "null"]] as const)
      await db().query("INSERT INTO change_log (project_id, event_type, payload) VALUES ($1, $2, $3::jsonb)", [project, type, payload]);
    await createSession(project, 1);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], after: "0", ...transport });
    const collector = new Collector(stream);
    try {
      const events = await collector.waitFor(4);
      expect(events.map((e) => [e.type, e.payload as unknown])).toEqual([
        ["tracker_listed", [1, 2]], ["pr_updated", "text"], ["tracker_empty", null],
        ["session_created", { id: `${project}-1`, activity: "active", isTerminated: false }],
      ]);
      expect(stream.state.getSnapshot().state).toBe("live");
    } finally {
      await stream.stop();
    }
  });
});

function checkEvents(events: EventHubEvent[], project: string): void {
  const s1 = `${project}-1`;
  const s2 = `${project}-2`;
  const url = `https://git.example/${project}/pull/1`;
  const seqs = new Set(events.map((e) => e.seq));
  expect(seqs.size).toBe(events.length);
  for (const e of events) {
    expect(e.projectId).toBe(project);
    expect(e.createdAt).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - e.createdAt.getTime())).toBeLessThan(10 * 60_000);
    expect(typeof e.seq).toBe("number");
    expect(typeof e.offset).toBe("string");
    expect(e.offset.length).toBeGreaterThan(0);
  }
  const [created, updated, firstSignal, preview, prCreated, prUpdated, created2, moved, check, threadAdded, threadResolved, unknown] = events;

  expect(isEventType(created!, "session_created") && created.payload).toEqual({ id: s1, activity: "active", isTerminated: false });
  expect(created!.sessionId).toBe(s1);
  expect(isEventType(updated!, "session_updated") && updated.payload).toEqual(
    { id: s1, activity: "waiting_input", isTerminated: false, previewUrl: null, previewRevision: 0 });
  expect(isEventType(firstSignal!, "session_updated") && firstSignal.payload).toEqual(
    { id: s1, activity: "waiting_input", isTerminated: false, previewUrl: null, previewRevision: 0 });
  expect(isEventType(preview!, "session_updated") && preview.payload).toEqual(
    { id: s1, activity: "waiting_input", isTerminated: false, previewUrl: `https://preview.example/${s1}`, previewRevision: 3 });
  expect(isEventType(prCreated!, "pr_created") && prCreated.payload).toEqual(
    { url, session: s1, state: "open", ci: "unknown", review: "none", mergeability: "unknown" });
  expect(isEventType(prUpdated!, "pr_updated") && prUpdated.payload).toEqual(
    { url, session: s1, state: "open", ci: "passing", review: "approved", mergeability: "unknown" });
  expect(isEventType(created2!, "session_created") && created2.payload.id).toBe(s2);
  expect(isEventType(moved!, "pr_session_changed") && moved.payload).toEqual({ url, fromSession: s1, toSession: s2 });
  expect(moved!.sessionId).toBe(s2);
  expect(isEventType(check!, "pr_check_recorded") && check.payload).toEqual({ pr: url, name: "build", commit: "abc123", status: "failed" });
  expect(isEventType(threadAdded!, "pr_review_thread_added") && threadAdded.payload).toEqual(
    { pr: url, thread: "t1", path: "src/a.ts", line: 42, resolved: false, isBot: true });
  expect(isEventType(threadResolved!, "pr_review_thread_resolved") && threadResolved.payload).toEqual(
    { pr: url, thread: "t1", path: "src/a.ts", line: 42, resolved: true });

  // Every known event carries exactly the fields of the one description (Contracts/event-types.json).
  for (const e of events.filter(isKnownEvent)) {
    const fields = description.types.find((t) => t.type === e.type)!.payload.map((f) => f.name);
    expect(Object.keys(e.payload).sort(), e.type).toEqual([...fields].sort());
  }

  expect(isKnownEvent(unknown!)).toBe(false);
  expect(isUnknownEvent(unknown!)).toBe(true);
  expect(unknown!.type).toBe("tracker_issue_opened");
  expect(unknown!.sessionId).toBeNull();
  expect(unknown!.payload).toEqual({ issue: "TRK-7", title: "A future event family" });
}
