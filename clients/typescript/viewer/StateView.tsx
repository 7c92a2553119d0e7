// The live state of the selected project: every session with its activity, every PR with its CI
// (its state and its checks) and review state, and the review threads still open. It is the
// package's LiveStateStore (through the useLiveState hook of App): the state as loaded, kept
// current from the stream, reloaded by itself on a reset.
import { memo, useMemo } from "react";
import type { CheckEntityEvent, LiveEntity, LiveStateSnapshot, PrEntityEvent, SessionEntityEvent, ThreadEntityEvent } from "../src/index.js";
import { shortPr, toneOf } from "./summarize.js";

/**
 * Entities whose event has an object payload: a payload the contract rules out (the client passes
 * it through as it came) has none of the fields the panels show, and is left out of them.
 */
const shown = <T extends LiveEntity>(entities: Iterable<T>): T[] =>
  [...entities].filter((e) => { const p: unknown = e.event.payload; return typeof p === "object" && p !== null && !Array.isArray(p); });

const byTime = (a: LiveEntity, b: LiveEntity) => b.event.createdAt.getTime() - a.event.createdAt.getTime() || b.event.seq - a.event.seq;

const Pill = ({ value, label }: { value: string; label?: string }) => (
  <span className={`part tone-${toneOf(value)}`}>{label && <i>{label}</i>}{value}</span>
);

/** The state view: three panels over one snapshot. */
export function StateView({ state }: { state: LiveStateSnapshot }) {
  const sessions = useMemo(() => shown(state.sessions.values()).sort(byTime), [state.sessions]);
  const prs = useMemo(() => shown(state.prs.values()).sort(byTime), [state.prs]);
  // Checks and open threads by (project, PR), for the PR rows.
  const checksByPr = useMemo(() => group(shown(state.checks.values()), (c) => c.event.payload.pr), [state.checks]);
  const openThreads = useMemo(() => shown(state.threads.values()).filter((t) => !t.event.payload.resolved).sort(byTime), [state.threads]);
  const openByPr = useMemo(() => group(openThreads, (t) => t.event.payload.pr), [openThreads]);

  if (state.loads === 0) {
    return <main className="state" data-testid="live-state"><div className="empty">{state.error ? "Could not load the state." : "Loading the state…"}</div></main>;
  }
  return (
    <main className="state" data-testid="live-state" data-offset={state.offset ?? ""} data-loads={state.loads}>
      <section className="panel fam-session" data-testid="sessions">
        <h2>Sessions <small>{sessions.length}</small></h2>
        {sessions.length === 0 ? <div className="empty">No sessions.</div> : sessions.map((s) => <SessionRow key={s.id} session={s} />)}
      </section>
      <section className="panel fam-pr" data-testid="prs">
        <h2>Pull requests <small>{prs.length}</small></h2>
        {prs.length === 0 ? <div className="empty">No pull requests.</div> : prs.map((pr) => (
          <PrRow key={pr.id} pr={pr} checks={checksByPr.get(key(pr.projectId, String(pr.keyValues[0]))) ?? none}
            openThreads={openByPr.get(key(pr.projectId, String(pr.keyValues[0])))?.length ?? 0} />
        ))}
      </section>
      <section className="panel fam-review_thread" data-testid="threads">
        <h2>Open review threads <small>{openThreads.length}</small></h2>
        {openThreads.length === 0 ? <div className="empty">No open threads.</div> : openThreads.map((t) => <ThreadRow key={t.id} thread={t} />)}
      </section>
    </main>
  );
}

const none: readonly LiveEntity<CheckEntityEvent>[] = [];
const key = (project: string, pr: string) => `${project}\u0000${pr}`;

function group<E extends CheckEntityEvent | ThreadEntityEvent>(entities: LiveEntity<E>[], prOf: (e: LiveEntity<E>) => string): Map<string, LiveEntity<E>[]> {
  const m = new Map<string, LiveEntity<E>[]>();
  for (const e of entities) {
    const k = key(e.projectId, prOf(e));
    let list = m.get(k);
    if (list === undefined) m.set(k, list = []);
    list.push(e);
  }
  return m;
}

const SessionRow = memo(function SessionRow({ session }: { session: LiveEntity<SessionEntityEvent> }) {
  const p = session.event.payload;
  const preview = session.event.type === "session_updated" ? session.event.payload : null;
  return (
    <div className="item session" data-id={p.id} data-activity={p.activity} data-terminated={String(p.isTerminated)}>
      <b className="name">{p.id}</b>
      <Pill value={p.activity} />
      {p.isTerminated && <span className="part tone-bad">terminated</span>}
      {preview?.previewUrl && <span className="part" title={preview.previewUrl}><i>preview</i>r{preview.previewRevision}</span>}
      <time className="when" dateTime={session.event.createdAt.toISOString()}>{session.event.createdAt.toLocaleTimeString()}</time>
    </div>
  );
});

const PrRow = memo(function PrRow({ pr, checks, openThreads }: { pr: LiveEntity<PrEntityEvent>; checks: readonly LiveEntity<CheckEntityEvent>[]; openThreads: number }) {
  const url = String(pr.keyValues[0]);
  const e = pr.event;
  // After pr_session_changed (the latest event) the state knows the PR's sessions, not its status.
  const status = e.type === "pr_session_changed" ? null : e.payload;
  const session = e.type === "pr_session_changed" ? e.payload.toSession : e.payload.session;
  const sorted = [...checks].sort((a, b) => a.event.payload.name.localeCompare(b.event.payload.name) || a.event.payload.commit.localeCompare(b.event.payload.commit));
  return (
    <div className="item pr" data-url={url} data-state={status?.state ?? ""} data-ci={status?.ci ?? ""} data-review={status?.review ?? ""}
      data-open-threads={openThreads}>
      <div className="line">
        <b className="name" title={url}>{shortPr(url)}</b>
        <span className="part"><i>session</i>{session}</span>
        {status ? <>
          <Pill value={status.state} label="state" />
          <Pill value={status.ci} label="ci" />
          <Pill value={status.review} label="review" />
          <Pill value={status.mergeability} label="merge" />
        </> : <span className="part tone-muted">moved from {e.type === "pr_session_changed" ? e.payload.fromSession : ""}; status with its next update</span>}
        {openThreads > 0 && <span className="part tone-warn">{openThreads} open thread{openThreads === 1 ? "" : "s"}</span>}
      </div>
      {sorted.length > 0 && (
        <div className="checks">
          {sorted.map((c) => (
            <span key={c.id} className={`part check tone-${toneOf(c.event.payload.status)}`} data-check={c.event.payload.name}
              data-commit={c.event.payload.commit} data-status={c.event.payload.status}>
              <i>{c.event.payload.name}</i>{c.event.payload.status} <small>{c.event.payload.commit.slice(0, 7)}</small>
            </span>
          ))}
        </div>
      )}
    </div>
  );
});

const ThreadRow = memo(function ThreadRow({ thread }: { thread: LiveEntity<ThreadEntityEvent> }) {
  const p = thread.event.payload;
  const bot = thread.event.type === "pr_review_thread_added" && thread.event.payload.isBot;
  return (
    <div className="item thread" data-thread={p.thread} data-pr={p.pr}>
      <b className="name">{shortPr(p.pr)}</b>
      <span className="part"><i>{p.thread}</i>{p.path ? `${p.path}${p.line != null ? `:${p.line}` : ""}` : ""}</span>
      {bot && <span className="part tone-muted">bot</span>}
      {thread.event.type === "pr_review_thread_resolved" && <span className="part tone-warn">reopened</span>}
    </div>
  );
});
