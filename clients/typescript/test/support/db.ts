// Writes orchestrator rows into the hub's PostgreSQL; the triggers turn them into change_log events.
import pg from "pg";
import { inject } from "vitest";

let pool: pg.Pool | undefined;

/** A pool on the test hub's database (closed by {@link closeDb}). */
export function db(): pg.Pool {
  pool ??= new pg.Pool({ ...inject("hub").pg, max: 4 });
  return pool;
}

/** Closes the pool; call it in afterAll. */
export async function closeDb(): Promise<void> {
  await pool?.end();
  pool = undefined;
}

/** The connection string of the test database, for a second hub process. */
export function connectionString(): string {
  const c = inject("hub").pg;
  return `Host=${c.host};Port=${c.port};Username=${c.user};Password=${c.password};Database=${c.database}`;
}

/**
 * The project's seqs in the log's order (tick, then xid, then seq), once every one of its rows is
 * in a tick. A commit made just before may be in none yet: its tick, null, would sort it after the
 * ticked rows and by xid among the unticked ones, not where the hub delivers it (a test that read
 * the order right after its writers stopped met that once). Waits at most `timeoutMs`.
 */
export async function loggedSeqs(project: string, timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await db().query<{ seq: string; tick: string | null }>(
      "SELECT seq, eventhub_tick_of(tx_id) AS tick FROM change_log WHERE project_id = $1 ORDER BY eventhub_tick_of(tx_id), tx_id, seq",
      [project])).rows;
    if (rows.every((r) => r.tick !== null)) return rows.map((r) => Number(r.seq));
    if (Date.now() > deadline) throw new Error(`rows of ${project} are still in no tick after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // no event announces a tick to the database's clients
  }
}

/** A project id no other test uses. */
export function uniqueProject(prefix = "p"): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Creates a project row. */
export async function createProject(project: string): Promise<void> {
  await db().query("INSERT INTO projects (id, path) VALUES ($1, $2)", [project, `/src/${project}`]);
}

/** Creates a session `{project}-{num}` (one `session_created`). */
export async function createSession(project: string, num: number): Promise<string> {
  const id = `${project}-${num}`;
  await db().query("INSERT INTO sessions (id, project_id, num, branch) VALUES ($1, $2, $3, $4)", [id, project, num, `feat/${num}`]);
  return id;
}

/**
 * Writes rows that make each of the eight event types at least once (session_updated also for a
 * first signal and a preview), plus one event of an unknown type written straight into
 * change_log. Returns the event types in log order.
 */
export async function writeAllEightTypes(project: string): Promise<string[]> {
  await createProject(project);
  const s1 = await createSession(project, 1); // session_created
  await db().query("UPDATE sessions SET activity_state = 'waiting_input' WHERE id = $1", [s1]); // session_updated
  await db().query("UPDATE sessions SET first_signal_at = now() WHERE id = $1", [s1]); // session_updated (first signal)
  await db().query("UPDATE sessions SET preview_url = $2, preview_revision = 3 WHERE id = $1", [s1, `https://preview.example/${s1}`]); // session_updated (preview)
  const url = `https://git.example/${project}/pull/1`;
  await db().query("INSERT INTO pr (url, session_id, number) VALUES ($1, $2, 1)", [url, s1]); // pr_created
  await db().query("UPDATE pr SET ci_state = 'passing', review_decision = 'approved' WHERE url = $1", [url]); // pr_updated
  const s2 = await createSession(project, 2); // session_created
  await db().query("UPDATE pr SET session_id = $2 WHERE url = $1", [url, s2]); // pr_session_changed
  await db().query("INSERT INTO pr_checks (pr_url, name, commit_hash, status) VALUES ($1, 'build', 'abc123', 'failed')", [url]); // pr_check_recorded
  await db().query("INSERT INTO pr_review_threads (pr_url, thread_id, path, line, is_bot) VALUES ($1, 't1', 'src/a.ts', 42, true)", [url]); // pr_review_thread_added
  await db().query("UPDATE pr_review_threads SET resolved = true WHERE pr_url = $1 AND thread_id = 't1'", [url]); // pr_review_thread_resolved
  await db().query("INSERT INTO change_log (project_id, session_id, event_type, payload) VALUES ($1, NULL, 'tracker_issue_opened', $2)",
    [project, JSON.stringify({ issue: "TRK-7", title: "A future event family" })]);
  return ["session_created", "session_updated", "session_updated", "session_updated", "pr_created", "pr_updated", "session_created", "pr_session_changed",
    "pr_check_recorded", "pr_review_thread_added", "pr_review_thread_resolved", "tracker_issue_opened"];
}

/** Writes `count` session events (`session_created` then `session_updated` flips) for a project that exists. */
export async function writeSessionEvents(project: string, fromNum: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await createSession(project, fromNum + i);
}
