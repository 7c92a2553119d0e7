// An offset issued by another log: a second database in the test cluster, served by a second hub
// process, asked for its head. Tests of the reset use it instead of writing an offset by hand,
// because the offset's format is opaque (and changes): only a hub may make one.
import pg from "pg";
import { inject } from "vitest";
import { freePort, HubProcess } from "./HubProcess.js";

let cached: Promise<string> | undefined;

/**
 * The head offset of a new database with one event, as its own hub hands it out. Made once per
 * test file (a second hub process takes seconds to start); the offset never changes meaning.
 */
export function foreignLogOffset(): Promise<string> {
  cached ??= makeForeignLogOffset();
  return cached;
}

async function makeForeignLogOffset(): Promise<string> {
  const c = inject("hub").pg;
  const database = `foreign_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ ...c });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const hub = await HubProcess.start(await freePort(), {
    "ConnectionStrings:EventHub": `Host=${c.host};Port=${c.port};Username=${c.user};Password=${c.password};Database=${database}`,
  });
  try {
    // The hub created the schema on start; one event makes the head an offset of this log's own.
    const writer = new pg.Client({ ...c, database });
    await writer.connect();
    try {
      await writer.query("INSERT INTO projects (id, path) VALUES ('elsewhere', '/src/elsewhere')");
      await writer.query("INSERT INTO sessions (id, project_id, num, branch) VALUES ('elsewhere-1', 'elsewhere', 1, 'b')");
    } finally {
      await writer.end();
    }
    const response = await fetch(`${hub.url}/api/v1/events/head`);
    const body = (await response.json()) as { offset: string };
    return body.offset;
  } finally {
    await hub.stop();
  }
}
