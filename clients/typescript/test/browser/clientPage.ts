// A page that uses the package in the browser. The test serves it (same origin as the hub, by
// request interception) and reads window.__eventhub. Query: transport, protocol, reader (SSE), project, type, after.
import { EventStream, isEventType, isStreamReset, type ConnectionState } from "../../src/index.js";

interface Received {
  types: string[];
  seqs: number[];
  createdAtIsDate: boolean[];
  checkStatus: string | null;
  states: ConnectionState[];
  usedEventSource: boolean;
  error: string | null;
  resets: Array<{ reason: string; offset: string }>;
  /** The stream's duplicate count (events it dropped as repeated): the hub should send none. */
  duplicates: number;
}

const q = new URLSearchParams(location.search);
const received: Received = { types: [], seqs: [], createdAtIsDate: [], checkStatus: null, states: [], usedEventSource: false, error: null, resets: [], duplicates: 0 };
(window as unknown as { __eventhub: Received }).__eventhub = received;

// Note EventSource instances on the SSE endpoint, to tell which SSE reader ran.
const NativeEventSource = window.EventSource;
window.EventSource = class extends NativeEventSource {
  constructor(url: string | URL, init?: EventSourceInit) {
    super(url, init);
    if (String(url).includes("/api/v1/events")) received.usedEventSource = true;
  }
};

const stream = new EventStream({
  url: "",
  transport: q.get("transport") === "sse" ? "sse" : "signalr",
  protocol: q.get("protocol") === "msgpack" ? "msgpack" : "json",
  projects: q.getAll("project"),
  types: q.getAll("type"),
  after: q.get("after") ?? "0",
  sseReader: q.get("reader") === "fetch" ? "fetch" : "auto",
});
stream.state.subscribe(() => {
  const s = stream.state.getSnapshot().state;
  if (received.states.at(-1) !== s) received.states.push(s);
  received.duplicates = stream.state.getSnapshot().duplicates;
});
stream.subscribe({
  next: (e) => {
    if (isStreamReset(e)) {
      received.resets.push({ reason: e.reason, offset: e.offset });
      return;
    }
    received.types.push(e.type);
    received.seqs.push(e.seq);
    received.createdAtIsDate.push(e.createdAt instanceof Date && !Number.isNaN(e.createdAt.getTime()));
    if (isEventType(e, "pr_check_recorded")) received.checkStatus = e.payload.status;
  },
  error: (e) => { received.error = e.message; },
});
