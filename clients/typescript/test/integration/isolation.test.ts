import { afterAll, describe, expect, inject, it } from "vitest";
import { EventStream } from "../../src/index.js";
import { Collector } from "../support/collect.js";
import { closeDb, createProject, db, createSession, uniqueProject, writeAllEightTypes } from "../support/db.js";
import { allTransports } from "../support/transports.js";

afterAll(closeDb);

describe.each(allTransports)("filters over %s", (_name, transport) => {
  it("delivers only the events of the projects asked for", async () => {
    const mine = uniqueProject("mine");
    const other = uniqueProject("other");
    await createProject(mine);
    await createProject(other);
    const stream = new EventStream({ url: inject("hub").url, projects: [mine], after: "0", ...transport });
    const collector = new Collector(stream);
    try {
      await createSession(other, 1);
      await createSession(mine, 1);
      await createSession(other, 2);
      await createSession(mine, 2);
      await createSession(other, 3);
      await createSession(mine, 3); // the marker: it comes after every event of the other project
      const events = await collector.waitFor(3);
      expect(events.map((e) => e.sessionId)).toEqual([`${mine}-1`, `${mine}-2`, `${mine}-3`]);
      expect(new Set(events.map((e) => e.projectId))).toEqual(new Set([mine]));
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
    } finally {
      await stream.stop();
    }
  });

  it("delivers only the types asked for, exact or by family", async () => {
    const project = uniqueProject("types");
    const all = await writeAllEightTypes(project);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], types: ["pr_review_thread_*", "session_updated"], after: "0", ...transport });
    const collector = new Collector(stream);
    try {
      const expected = all.filter((t) => t.startsWith("pr_review_thread_") || t === "session_updated");
      await collector.waitFor(expected.length);
      // A marker of a selected type: anything unselected would have arrived before it.
      await db().query("UPDATE sessions SET activity_state = 'blocked' WHERE id = $1", [`${project}-1`]);
      const events = await collector.waitFor(expected.length + 1);
      expect(events.map((e) => e.type)).toEqual([...expected, "session_updated"]);
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
    } finally {
      await stream.stop();
    }
  });
});
