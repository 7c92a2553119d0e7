// The live event viewer served by the hub at "/". It uses the package itself: useEventStream
// keeps the newest 500 events and re-renders at most every 100 ms, so 1,000 events a minute (or
// a catch-up of thousands) costs a few renders a second and a bounded DOM. Its second view
// (`?view=state`) is the live state of the selected project, from useLiveState.
import { memo, useEffect, useMemo, useState } from "react";
import { eventFamilyOf, KNOWN_EVENT_TYPES, listProjects, type EventHubEvent, type ProjectInfo } from "../src/index.js";
import { useEventStream, useLiveState } from "../src/react/index.js";
import { StateView } from "./StateView.js";
import { summarize } from "./summarize.js";

const MAX_ROWS = 500;

type Transport = "sse" | "signalr";
type From = "0" | "now";
type View = "events" | "state";

interface ViewerSettings {
  project: string; // "" = all projects
  types: string[]; // [] = every type, including unknown ones
  from: From;
  transport: Transport;
  view: View;
}

function readSettings(): ViewerSettings {
  const q = new URLSearchParams(location.search);
  return {
    project: q.get("project") ?? "",
    types: q.getAll("type"),
    from: q.get("from") === "now" ? "now" : "0",
    transport: q.get("transport") === "signalr" ? "signalr" : "sse",
    view: q.get("view") === "state" ? "state" : "events",
  };
}

function writeSettings(s: ViewerSettings): void {
  const q = new URLSearchParams();
  if (s.project) q.set("project", s.project);
  for (const t of s.types) q.append("type", t);
  if (s.from === "now") q.set("from", "now");
  if (s.transport !== "sse") q.set("transport", s.transport);
  if (s.view !== "events") q.set("view", s.view);
  const search = q.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

const typeLabels: Record<string, string> = {
  session_created: "session created", session_updated: "session updated", pr_created: "PR created",
  pr_updated: "PR updated", pr_session_changed: "PR moved", pr_check_recorded: "check",
  pr_review_thread_added: "thread added", pr_review_thread_resolved: "thread resolved",
};

/** The viewer. */
export function App() {
  const [settings, setSettings] = useState(readSettings);
  const [paused, setPaused] = useState(false);
  const [projects, setProjects] = useState<string[]>(() => (settings.project ? [settings.project] : []));
  useEffect(() => writeSettings(settings), [settings]);

  const options = useMemo(() => ({
    url: "",
    projects: settings.project ? [settings.project] : [],
    types: settings.types,
    after: settings.from === "0" ? "0" : null,
    transport: settings.transport,
  }), [settings]);
  const showState = settings.view === "state";
  // Only the view shown streams: the events list, or the live state of the selected project.
  const stream = useEventStream(showState ? null : options, { enabled: !paused, capacity: MAX_ROWS });
  const { events, received, lastReset } = stream;
  const live = useLiveState(showState
    ? { url: "", projects: options.projects, transport: settings.transport, enabled: !paused }
    : null);
  const state = showState ? live.status : stream.state;
  const offset = showState ? live.offset : stream.offset;
  const error = showState ? live.error : stream.error;

  // The project picker offers the hub's registered projects (GET /api/v1/projects), so a project
  // can be picked before any of its events arrived, and every project seen since.
  const [registered, setRegistered] = useState<ReadonlyMap<string, ProjectInfo>>(new Map());
  useEffect(() => {
    const abort = new AbortController();
    listProjects({ url: "", signal: abort.signal }).then((list) => {
      setRegistered(new Map(list.map((p) => [p.id, p])));
      setProjects((known) => [...new Set([...known, ...list.map((p) => p.id)])].sort());
    }, () => { /* an older hub, or none reachable: the picker offers the projects seen */ });
    return () => abort.abort();
  }, []);
  useEffect(() => {
    const seen = new Set(projects);
    let added = false;
    const see = (p: string) => { if (!seen.has(p)) { seen.add(p); added = true; } };
    for (const e of events) see(e.projectId);
    for (const kind of live.kinds.values()) for (const e of kind.values()) see(e.projectId);
    if (added) setProjects([...seen].sort());
  }, [events, live.kinds, projects]);

  const toggleType = (type: string) => setSettings((s) => {
    const current = s.types.length === 0 ? [...KNOWN_EVENT_TYPES] : s.types;
    const next = current.includes(type) ? current.filter((t) => t !== type) : [...current, type];
    // No type selected would be no `type` in the URL, which means every type: the last one stays
    // (its chip is disabled too).
    if (next.length === 0) return s;
    // All eight selected means "no filter", which also lets future types through.
    return { ...s, types: next.length === KNOWN_EVENT_TYPES.length ? [] : next };
  });
  const shown = paused ? "paused" : state;

  return (
    <div className="app">
      <header className="bar">
        <div className="brand"><span className="logo">◆</span> EventHub <span className="sub">{showState ? "live state" : "live events"}</span></div>
        <div className="tabs" role="group" aria-label="View">
          <button data-testid="view-events" aria-pressed={!showState} onClick={() => setSettings((s) => ({ ...s, view: "events" }))}>Events</button>
          <button data-testid="view-state" aria-pressed={showState} onClick={() => setSettings((s) => ({ ...s, view: "state" }))}>State</button>
        </div>
        <div className={`status status-${shown}`} data-testid="state"><span className="dot" />{shown}</div>
        <div className="offset" title={showState ? "The offset the state shown is exact at" : "Offset of the last event received: a resume starts after it"}>
          <span className="k">offset</span><code data-testid="offset">{offset ?? "—"}</code>
        </div>
        {showState
          ? <div className="count"><span className="k">loads</span><b data-testid="loads" data-count={live.loads}>{live.loads}</b></div>
          : <div className="count"><span className="k">received</span><b data-testid="received" data-count={received}>{received.toLocaleString()}</b></div>}
        <button className={`pause ${paused ? "paused" : ""}`} data-testid="pause" onClick={() => setPaused((p) => !p)}>
          {paused ? "▶ Resume" : "❚❚ Pause"}
        </button>
      </header>

      <section className="filters">
        <label className="field">
          <span>Project</span>
          <select data-testid="project" value={settings.project} onChange={(e) => setSettings((s) => ({ ...s, project: e.target.value }))}>
            <option value="">All projects</option>
            {projects.map((p) => <option key={p} value={p}>{projectLabel(p, registered.get(p))}</option>)}
          </select>
        </label>
        {!showState && <label className="field">
          <span>From</span>
          <select value={settings.from} onChange={(e) => setSettings((s) => ({ ...s, from: e.target.value as From }))}>
            <option value="0">beginning</option>
            <option value="now">now</option>
          </select>
        </label>}
        <label className="field">
          <span>Transport</span>
          <select value={settings.transport} onChange={(e) => setSettings((s) => ({ ...s, transport: e.target.value as Transport }))}>
            <option value="sse">SSE</option>
            <option value="signalr">SignalR</option>
          </select>
        </label>
        {!showState && <div className="types" role="group" aria-label="Event types">
          {KNOWN_EVENT_TYPES.map((t) => {
            const on = settings.types.length === 0 || settings.types.includes(t);
            const last = on && settings.types.length === 1; // the only type selected: it stays
            return (
              <button key={t} className={`chip fam-${eventFamilyOf(t)} ${on ? "on" : "off"}`} aria-pressed={on} onClick={() => toggleType(t)}
                disabled={last} title={last ? "At least one type stays selected: select another type before turning this one off" : undefined}>
                {typeLabels[t]}
              </button>
            );
          })}
        </div>}
      </section>

      {error && state !== "live" && <div className="error" role="alert">{error.message}</div>}
      {showState && live.lastReset && (
        <div className="error" role="status" data-testid="reset">
          The hub reset the stream ({live.lastReset.reason}) at {live.lastReset.receivedAt.toLocaleTimeString()}: the state was loaded again.
        </div>
      )}
      {!showState && lastReset && (
        <div className="error" role="status" data-testid="reset">
          The hub reset the stream ({lastReset.reason}) at {lastReset.receivedAt.toLocaleTimeString()}: earlier events
          could not be continued, so the list restarted from offset {lastReset.offset}.
        </div>
      )}

      {showState ? <StateView state={live} /> : <main className="list" data-testid="events">
        {events.length === 0
          ? <div className="empty">{state === "live" ? "Waiting for events…" : "No events yet."}</div>
          : events.map((e) => <Row key={`${e.seq}:${e.offset}`} event={e} />)}
        {received > events.length && <div className="more">Showing the newest {events.length} of {received.toLocaleString()} events.</div>}
      </main>}
    </div>
  );
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });

const Row = memo(function Row({ event }: { event: EventHubEvent }) {
  const family = eventFamilyOf(event.type);
  return (
    <div className={`row fam-${family}`} data-type={event.type} data-project={event.projectId}>
      <time dateTime={event.createdAt.toISOString()} title={event.createdAt.toISOString()}>
        {timeFormat.format(event.createdAt)}<small>.{String(event.createdAt.getMilliseconds()).padStart(3, "0")}</small>
      </time>
      <span className="type" title={event.type}>{typeLabels[event.type] ?? event.type}</span>
      <span className="where" title={event.sessionId ?? event.projectId}><b>{event.projectId}</b>{event.sessionId ? <> / {event.sessionId}</> : null}</span>
      <span className="summary">
        {summarize(event).map((p, i) => (
          <span key={i} className={`part tone-${p.tone ?? "plain"}`}>{p.label && <i>{p.label}</i>}{p.value}</span>
        ))}
      </span>
      <span className="seq">#{event.seq}</span>
    </div>
  );
});

/** A picker entry: the id, with the display name and whether it is archived when the hub lists them. */
function projectLabel(id: string, info: ProjectInfo | undefined): string {
  const name = info?.displayName && info.displayName !== id ? ` — ${info.displayName}` : "";
  return `${id}${name}${info?.archived ? " (archived)" : ""}`;
}
