// A `for await` loop that stops reading during a catch-up, against a real hub over each transport:
// the stream pauses (its connection closes) once the loop holds maxBufferedEvents unread events,
// and the loop then reads the whole log once, in order. The bound itself, and the resumes' offsets,
// are checked with a fake transport in test/unit/iteratorBuffer.test.ts.
import { afterAll, describe, expect, inject, it } from "vitest";
import { EventStream, type EventHubEvent } from "../../src/index.js";
import { waitUntil } from "../support/collect.js";
import { closeDb, createProject, db, loggedSeqs, uniqueProject } from "../support/db.js";
import { allTransports } from "../support/transports.js";

afterAll(closeDb);

const total = 2_000;

describe.each(allTransports)("a slow for-await loop over %s", (_name, transport) => {
  it("pauses the stream while it holds maxBufferedEvents, then gets every event once in order", { timeout: 60_000 }, async () => {
    const project = uniqueProject("slow");
    await createProject(project);
    await db().query(
      `INSERT INTO change_log (project_id, event_type, payload)
       SELECT $1, 'tracker_noted', jsonb_build_object('n', n, 'text', repeat('x', 200)) FROM generate_series(1, $2) AS n`,
      [project, total]);
    const stream = new EventStream({ url: inject("hub").url, projects: [project], after: "0", maxBufferedEvents: 200, ...transport });
    let pauses = 0;
    let wasPaused = false;
    const unsubscribe = stream.state.subscribe(() => {
      const { paused } = stream.state.getSnapshot();
      if (paused && !wasPaused) pauses++;
      wasPaused = paused;
    });
    const seqs: number[] = [];
    try {
      for await (const item of stream) {
        seqs.push((item as EventHubEvent).seq);
        if (seqs.length === 1) {
          // The application is busy: it reads nothing until the stream has paused.
          let stop = () => {};
          await waitUntil(() => stream.state.getSnapshot().paused, (fn) => { stop = stream.state.subscribe(fn); }, 15_000,
            () => `expected the stream to pause; state ${JSON.stringify(stream.state.getSnapshot())}`).finally(() => stop());
        }
        if (seqs.length === total) break;
      }
    } finally {
      unsubscribe();
      await stream.stop();
    }

    expect(seqs).toEqual(await loggedSeqs(project));
    expect(pauses).toBeGreaterThanOrEqual(1);
    expect(stream.state.getSnapshot()).toMatchObject({ duplicates: 0, paused: false, error: null });
  });
});
