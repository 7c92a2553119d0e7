// The hub's reset signal: an offset from another log (another database) cannot be continued
// without a gap. Each transport surfaces it as a reset item, never an error, then continues from
// the offset the hub gave. Over SignalR it arrives as the stream's final reset item (data, in JSON
// and MessagePack alike), not as a message to parse.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { EventStream, isStreamReset, type ConnectionState, type ProjectNotice } from "../../src/index.js";
import { Collector, waitForState } from "../support/collect.js";
import { closeDb, createProject, createSession, uniqueProject } from "../support/db.js";
import { foreignLogOffset } from "../support/foreignLog.js";
import { allTransports } from "../support/transports.js";

afterAll(closeDb);

let FOREIGN_OFFSET = "";
beforeAll(async () => { FOREIGN_OFFSET = await foreignLogOffset(); });

describe.each(allTransports)("reset over %s", (_name, transport) => {
  it("surfaces an offset from another log as a reset item, then continues from the offset it carries", async () => {
    const project = uniqueProject("rz");
    await createProject(project);
    const notices: ProjectNotice[] = [];
    const stream = new EventStream({
      url: inject("hub").url, projects: [project], after: FOREIGN_OFFSET, retryDelaysInMilliseconds: [10],
      onNotice: (n) => notices.push(n), ...transport,
    });
    const states: ConnectionState[] = [];
    stream.state.subscribe(() => { const s = stream.state.getSnapshot().state; if (states.at(-1) !== s) states.push(s); });
    const collector = new Collector(stream);
    try {
      const [reset] = await collector.waitForResets(1);
      expect(reset).toMatchObject({ kind: "reset", reason: "offset_from_another_log", previousOffset: FOREIGN_OFFSET, projects: [project] });
      expect(reset!.offset).not.toBe(""); // opaque: only stored and sent back
      expect(reset!.offset).not.toBe(FOREIGN_OFFSET);
      expect(reset!.message).not.toBe("");
      expect(isStreamReset(collector.items[0]!)).toBe(true);
      expect(stream.state.getSnapshot().lastReset).toBe(reset);
      expect(stream.offset).toBe(reset!.offset);

      // The stream goes on after the reset's offset, without an error or a stop.
      await waitForState(stream, "live");
      await createSession(project, 1);
      await createSession(project, 2);
      const events = await collector.waitFor(2);
      expect(events.map((e) => e.sessionId)).toEqual([`${project}-1`, `${project}-2`]);
      expect(collector.resets).toHaveLength(1);
      expect(stream.state.getSnapshot()).toMatchObject({ state: "live", error: null, offset: events[1]!.offset });
      expect(states).toEqual(["connecting", "live"]);
      expect(stream.state.getSnapshot().duplicates).toBe(0); // the hub sent no event twice (the client would drop and count it)
      if (transport.transport === "signalr") {
        expect(notices).toContainEqual(expect.objectContaining({ projectId: project, kind: "reset", offset: reset!.offset }));
      }
    } finally {
      await stream.stop();
    }
  });
});
