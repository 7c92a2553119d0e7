// The live state store end to end: a hub process on a database of this file's own (retention
// prunes the whole log, so no other suite may share it), concurrent writers touching every entity
// kind with out-of-order commits, the hub killed and restarted while they write, then a forced reset
// (a hub with retention prunes past the stores' offsets while they cannot reach it). Every transport
// runs its own store through the same history, and each ends equal to the state computed from the
// database: the latest event per (project, kind, key) in the log's order, pruned rows included (a
// trigger of this test keeps them, with their tick, as retention deletes them).
import pg from "pg";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { EventStream, LiveStateStore, liveEntityId, type LiveStateSnapshot, type StreamItem } from "../../src/index.js";
import { waitUntil } from "../support/collect.js";
import { freePort, HubProcess } from "../support/HubProcess.js";
import { allTransports } from "../support/transports.js";

const c = inject("hub").pg;
const database = `livestate_${Math.random().toString(36).slice(2, 10)}`;
const connection = `Host=${c.host};Port=${c.port};Username=${c.user};Password=${c.password};Database=${database}`;
const projects = ["ls-a", "ls-b"];
let pool: pg.Pool;
let port = 0;
let hub: HubProcess | undefined;
const startHub = async (config: Record<string, string> = {}, on = port) =>
  HubProcess.start(on, { "ConnectionStrings:EventHub": connection, ...config });

beforeAll(async () => {
  const admin = new pg.Client({ ...c });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  port = await freePort();
  hub = await startHub(); // creates the schema
  pool = new pg.Pool({ ...c, database, max: 8 });
  // Keep what retention deletes, with its tick, so the expected state covers the whole history.
  await pool.query(`
    CREATE TABLE test_pruned_log (tick bigint NOT NULL, tx_id xid8 NOT NULL, seq bigint NOT NULL, project_id text NOT NULL,
                                  event_type text NOT NULL, payload jsonb NOT NULL);
    CREATE FUNCTION test_keep_pruned() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_pruned_log VALUES (eventhub_tick_of(OLD.tx_id), OLD.tx_id, OLD.seq, OLD.project_id, OLD.event_type, OLD.payload);
      RETURN OLD;
    END $$;
    CREATE TRIGGER test_keep_pruned BEFORE DELETE ON change_log FOR EACH ROW EXECUTE FUNCTION test_keep_pruned();`);
  for (const p of projects) await pool.query("INSERT INTO projects (id, path) VALUES ($1, $2)", [p, `/src/${p}`]);
}, 120_000);

afterAll(async () => {
  await hub?.stop();
  await pool?.end();
});

/** The state computed from the database: per (project, kind, key), the `seq:type` of the entity's latest event (highest seq). */
async function expectedState(): Promise<Map<string, string>> {
  const rows = (await pool.query<{ project_id: string; kind: string; key: string; seq: string; event_type: string }>(`
    WITH log AS (
      SELECT eventhub_tick_of(tx_id) AS tick, tx_id, seq, project_id, event_type, payload FROM change_log
      UNION ALL
      SELECT tick, tx_id, seq, project_id, event_type, payload FROM test_pruned_log),
    keyed AS (
      SELECT l.*, k.kind,
             (SELECT jsonb_agg(l.payload -> u.f ORDER BY u.o) FROM unnest(k.key_fields) WITH ORDINALITY AS u(f, o))::text AS key
      FROM log l JOIN eventhub_entity_key k ON k.event_type = l.event_type
      WHERE l.project_id = ANY($1))
    SELECT DISTINCT ON (project_id, kind, key) project_id, kind, key, seq, event_type
    FROM keyed ORDER BY project_id, kind, key, seq DESC`, [projects])).rows;
  return new Map(rows.map((r) => [`${r.kind} ${liveEntityId(r.project_id, ...(JSON.parse(r.key) as unknown[]))}`,
    `${r.seq}:${r.event_type}`]));
}

/** A store's entities in the same shape. */
function stateOf(snapshot: LiveStateSnapshot): Map<string, string> {
  const m = new Map<string, string>();
  for (const entities of snapshot.kinds.values())
    for (const [id, e] of entities) m.set(`${e.kind} ${id}`, `${e.event.seq}:${e.event.type}`);
  return m;
}

const sameState = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;

/** One writer: random changes to entities of its own (so concurrent writers never wait on each other's rows). */
class Writer {
  private readonly sessions: string[] = [];
  private readonly prs: string[] = [];
  private readonly checks: Array<[string, string, string]> = [];
  private readonly threads: Array<[string, string]> = [];
  private n = 0;

  constructor(private readonly id: number) {}

  /** One step: a single change, or (one step in five) several changes in one transaction held open a little, so commits interleave out of order. */
  async step(): Promise<void> {
    if (this.sessions.length < 2 || Math.random() < 0.1) { await this.createSession(pool); return; }
    if (this.prs.length === 0 || Math.random() < 0.1) { await this.createPr(pool); return; }
    if (Math.random() < 0.2) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        for (let i = 0; i < 3; i++) await this.update(client);
        await client.query("SELECT pg_sleep(random() * 0.03)"); // the workload: a slow transaction
        await client.query("COMMIT");
      } catch (e) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw e;
      } finally {
        client.release();
      }
      return;
    }
    const r = Math.random();
    if (r < 0.3) await this.recordCheck();
    else if (r < 0.5) await this.thread();
    else await this.update(pool);
  }

  private async createSession(q: pg.Pool): Promise<void> {
    const project = pick(projects);
    const num = this.id * 100_000 + ++this.n;
    await q.query("INSERT INTO sessions (id, project_id, num, branch) VALUES ($1, $2, $3, 'b')", [`${project}-${num}`, project, num]);
    this.sessions.push(`${project}-${num}`);
  }

  private async createPr(q: pg.Pool): Promise<void> {
    const number = this.id * 100_000 + ++this.n;
    const url = `https://git.example/w${this.id}/pull/${number}`;
    await q.query("INSERT INTO pr (url, session_id, number) VALUES ($1, $2, $3)", [url, pick(this.sessions), number]);
    this.prs.push(url);
  }

  private async recordCheck(): Promise<void> {
    const status = pick(["queued", "in_progress", "passed", "failed", "skipped"]);
    if (this.checks.length > 0 && Math.random() < 0.6) {
      const [pr, name, commit] = pick(this.checks);
      await pool.query("UPDATE pr_checks SET status = $4 WHERE pr_url = $1 AND name = $2 AND commit_hash = $3", [pr, name, commit, status]);
      return;
    }
    // Names with quotes and non-ASCII: keys built from payloads must match the hub's keys.
    const check: [string, string, string] = [pick(this.prs), pick(["build", "unit \"ü\"", "lint/é"]), `c${++this.n}`];
    await pool.query("INSERT INTO pr_checks (pr_url, name, commit_hash, status) VALUES ($1, $2, $3, $4)", [...check, status]);
    this.checks.push(check);
  }

  private async thread(): Promise<void> {
    if (this.threads.length > 0 && Math.random() < 0.6) {
      const [pr, thread] = pick(this.threads);
      await pool.query("UPDATE pr_review_threads SET resolved = NOT resolved WHERE pr_url = $1 AND thread_id = $2", [pr, thread]);
      return;
    }
    const t: [string, string] = [pick(this.prs), `t${++this.n}`];
    await pool.query("INSERT INTO pr_review_threads (pr_url, thread_id, path, line, is_bot) VALUES ($1, $2, 'src/a.ts', $3, $4)",
      [...t, this.n, Math.random() < 0.3]);
    this.threads.push(t);
  }

  /** An update of an existing session or PR (also inside the out-of-order transactions). */
  private async update(q: pg.Pool | pg.PoolClient): Promise<void> {
    const r = Math.random();
    if (r < 0.35) {
      await q.query("UPDATE sessions SET activity_state = $2 WHERE id = $1", [pick(this.sessions), pick(["active", "idle", "waiting_input", "blocked", "exited"])]);
    } else if (r < 0.45) {
      await q.query("UPDATE sessions SET preview_url = $2, preview_revision = preview_revision + 1 WHERE id = $1", [pick(this.sessions), `https://preview.example/${this.n++}`]);
    } else if (r < 0.85) {
      await q.query("UPDATE pr SET pr_state = $2, ci_state = $3, review_decision = $4, mergeability = $5 WHERE url = $1", [pick(this.prs),
        pick(["draft", "open", "merged", "closed"]), pick(["unknown", "pending", "passing", "failing"]),
        pick(["none", "approved", "changes_requested", "review_required"]), pick(["unknown", "mergeable", "conflicting", "blocked", "unstable"])]);
    } else {
      // pr_session_changed; the session may be in the other project: the PR's events move there.
      await q.query("UPDATE pr SET session_id = $2 WHERE url = $1", [pick(this.prs), pick(this.sessions)]);
    }
  }
}

/** Writers that run until stopped; `written` counts steps, `onWrite` callbacks run after each. */
function startWriters(count: number, firstId = 1) {
  let stop = false;
  let written = 0;
  const onWrite = new Set<() => void>();
  const done = Promise.all(Array.from({ length: count }, async (_, i) => {
    const w = new Writer(firstId + i);
    while (!stop) {
      await w.step();
      written++;
      for (const fn of onWrite) fn();
    }
  }));
  return {
    get written() { return written; },
    /** Waits until `n` more steps are written. */
    more: (n: number, timeout = 30_000) => {
      const target = written + n;
      let off = () => {};
      return waitUntil(() => written >= target, (fn) => { onWrite.add(fn); off = () => onWrite.delete(fn); }, timeout,
        () => `only ${written - target + n} of ${n} writes`).finally(() => off());
    },
    stop: async () => { stop = true; await done; },
    done,
  };
}

/** Waits until `done(snapshot)` holds for `store`; rejects after the timeout. */
function until(store: LiveStateStore, done: (s: LiveStateSnapshot) => boolean, what: string, timeout = 30_000): Promise<void> {
  let off = () => {};
  return waitUntil(() => done(store.getSnapshot()), (fn) => { off = store.subscribe(fn); }, timeout,
    () => `${what}; status ${store.getSnapshot().status}, loads ${store.getSnapshot().loads}, error: ${store.getSnapshot().error?.message ?? "none"}`)
    .finally(() => off());
}

/** Once every committed write is in a tick: each store equals the database's state, having loaded it `loads` times. */
async function expectEveryStoreEqualsTheDatabase(stores: Array<{ name: string; store: LiveStateStore }>, loads: number): Promise<Map<string, string>> {
  await fetch(`${hub!.url}/api/v1/events/head`); // ticks every committed write
  const expected = await expectedState();
  expect(new Set([...expected.keys()].map((k) => k.split(" ")[0]))).toEqual(new Set(["session", "pr", "check", "thread"]));
  for (const { name, store } of stores) {
    await until(store, (s) => sameState(stateOf(s), expected), `${name}: the store never equalled the database's state`, 60_000)
      .catch(() => undefined); // the assertion below shows the difference
    expect(Object.fromEntries(stateOf(store.getSnapshot())), name).toEqual(Object.fromEntries(expected));
    expect(store.getSnapshot(), name).toMatchObject({ loads, error: null });
  }
  return expected;
}

/** Whether `offset` is pruned on the hub at `url`: the stream after it starts with a reset. */
async function isPruned(url: string, offset: string): Promise<boolean> {
  const stream = new EventStream({ url, projects, after: offset, transport: "sse" });
  try {
    const first = await new Promise<StreamItem>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error("no item within 15 s")), 15_000);
      stream.subscribe({ next: (item) => { clearTimeout(timer); ok(item); }, error: fail });
    });
    return "kind" in first && first.kind === "reset";
  } finally {
    await stream.stop();
  }
}

it("each transport's store equals the state computed from the database after concurrent out-of-order writes, hub kills and a forced reset",
  { timeout: 240_000 }, async () => {
    let writers = startWriters(4);
    const stores = allTransports.map(([name, transport]) => ({
      name,
      store: new LiveStateStore({ url: hub!.url, projects, retryDelaysInMilliseconds: [50, 100, 250], ...transport }),
    }));
    try {
      await writers.more(150); // a history before the state is loaded
      await Promise.all(stores.map(({ store }) => store.start()));
      for (const { store } of stores) expect(store.getSnapshot().kinds.size).toBe(4); // sessions, PRs, checks, threads

      // 1. Streaming while writers write, then the hub is killed and restarted while they go on.
      const loaded = stores.map(({ store }) => store.getSnapshot().offset);
      await writers.more(100);
      await Promise.all(stores.map(({ store }, i) => until(store, (s) => s.offset !== loaded[i], "no event after the state")));
      await hub!.kill();
      await Promise.all(stores.map(({ store }) => until(store, (s) => s.status === "reconnecting", "did not notice the kill")));
      await writers.more(100); // written while no hub runs
      hub = await startHub();
      await Promise.all(stores.map(({ store }) => until(store, (s) => s.status === "live", "not live after the restart")));
      const afterRestart = stores.map(({ store }) => store.offset);
      await writers.more(100);
      await Promise.all(stores.map(({ store }, i) => until(store, (s) => s.offset !== afterRestart[i], "no event after the restart")));
      for (const { store } of stores) expect(store.getSnapshot()).toMatchObject({ loads: 1, lastReset: null }); // resumed, not reloaded
      // Checkpoint: the reset below reloads everything, so the resumed state is checked here.
      await writers.stop();
      await expectEveryStoreEqualsTheDatabase(stores, 1);
      writers = startWriters(4, 5);

      // 2. A forced reset: while the stores cannot reach it, a hub with retention (on another port)
      // prunes the log past their offsets; when the hub is back on their port, their offsets are gone.
      await hub!.kill();
      await Promise.all(stores.map(({ store }) => until(store, (s) => s.status === "reconnecting", "did not notice the second kill")));
      // (No recent-events window: it could still serve the stores' offsets from memory, without a gap and so without a reset.)
      const pruner = await startHub({ "Retention:MaxEvents": "20", "Retention:Interval": "00:00:00.200", "Stream:RecentEventsWindowSize": "0" },
        await freePort());
      try {
        for (const { store } of stores) {
          const offset = store.offset!;
          const deadline = Date.now() + 60_000;
          while (!(await isPruned(pruner.url, offset))) {
            if (Date.now() > deadline) throw new Error(`retention did not prune past ${offset} within 60 s:\n${pruner.log}`);
            await writers.more(20); // retention keeps the newest 20: more writes push the offset out
          }
        }
      } finally {
        await pruner.stop();
      }
      hub = await startHub();
      await Promise.all(stores.map(({ store }) => until(store, (s) => s.loads === 2 && s.status === "live", "did not reload after the reset")));
      for (const { store } of stores) expect(store.getSnapshot().lastReset).toMatchObject({ reason: "offset_pruned" });
      await writers.more(100); // and streams on after the reloaded state

      // 3. Writers stop; once every write is in a tick, each store must equal the database's state.
      await writers.stop();
      const expected = await expectEveryStoreEqualsTheDatabase(stores, 2);
      expect(expected.size).toBeGreaterThan(200);
      const pruned = Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM test_pruned_log")).rows[0]!.n);
      expect(pruned).toBeGreaterThan(500); // the reset was real: most of the history is gone from change_log
    } finally {
      await writers.stop().catch(() => undefined);
      await Promise.all(stores.map(({ store }) => store.stop()));
    }
  });
