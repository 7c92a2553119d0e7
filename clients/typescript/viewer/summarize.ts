// The key payload fields of each event type, as short labelled parts for one row of the viewer.
import { isKnownEvent, type EventHubEvent } from "../src/index.js";

/** One part of a row's summary: a value, optionally labelled, with a tone for colouring. */
export interface SummaryPart {
  readonly label?: string;
  readonly value: string;
  readonly tone?: "good" | "bad" | "warn" | "muted" | "plain";
}

const tones: Record<string, SummaryPart["tone"]> = {
  passing: "good", passed: "good", approved: "good", mergeable: "good", merged: "good", active: "good",
  failing: "bad", failed: "bad", changes_requested: "bad", conflicting: "bad", closed: "bad", blocked: "bad",
  pending: "warn", queued: "warn", in_progress: "warn", review_required: "warn", waiting_input: "warn", unstable: "warn", draft: "warn",
  unknown: "muted", none: "muted", skipped: "muted", cancelled: "muted", idle: "muted", exited: "muted",
};

/** The colour of a payload value (an activity, a PR, CI, review or check state). */
export function toneOf(value: string): NonNullable<SummaryPart["tone"]> {
  return tones[value] ?? "plain";
}

function pill(value: string, label?: string): SummaryPart {
  return { value, tone: toneOf(value), ...(label ? { label } : {}) };
}

/** `https://host/org/repo/pull/12` → `repo#12`. */
export function shortPr(url: string): string {
  const m = /([^/]+)\/pull\/(\d+)\/?$/.exec(url);
  return m ? `${m[1]}#${m[2]}` : url;
}

/** The parts that summarise an event's payload. */
export function summarize(event: EventHubEvent): SummaryPart[] {
  const payload: unknown = event.payload;
  // An unknown type, or a payload that is not an object (the contract rules it out, the client
  // passes it through): shown as its JSON.
  if (!isKnownEvent(event) || typeof payload !== "object" || payload === null || Array.isArray(payload)) {
    const text = JSON.stringify(payload) ?? String(payload);
    return [{ value: text.length > 120 ? `${text.slice(0, 117)}…` : text, tone: "muted" }];
  }
  switch (event.type) {
    case "session_created": {
      const p = event.payload;
      return [pill(p.activity, "activity"), ...(p.isTerminated ? [{ value: "terminated", tone: "bad" as const }] : [])];
    }
    case "session_updated": {
      const p = event.payload;
      // The preview (issue 15): its URL and revision, once the session has one.
      const preview = p.previewUrl ? [{ value: `${p.previewUrl} r${p.previewRevision}`, label: "preview" }] : [];
      return [pill(p.activity, "activity"), ...(p.isTerminated ? [{ value: "terminated", tone: "bad" as const }] : []), ...preview];
    }
    case "pr_created":
    case "pr_updated": {
      const p = event.payload;
      return [{ value: shortPr(p.url) }, pill(p.state, "state"), pill(p.ci, "ci"), pill(p.review, "review"), pill(p.mergeability, "merge")];
    }
    case "pr_session_changed": {
      const p = event.payload;
      return [{ value: shortPr(p.url) }, { value: `${p.fromSession} → ${p.toSession}`, label: "moved" }];
    }
    case "pr_check_recorded": {
      const p = event.payload;
      return [{ value: shortPr(p.pr) }, { value: p.name, label: "check" }, { value: String(p.commit ?? "").slice(0, 7), tone: "muted" }, pill(p.status)];
    }
    case "pr_review_thread_added": {
      const p = event.payload;
      return [{ value: shortPr(p.pr) }, { value: p.path ? `${p.path}${p.line != null ? `:${p.line}` : ""}` : p.thread, label: "thread" },
        ...(p.isBot ? [{ value: "bot", tone: "muted" as const }] : []), p.resolved ? pill("resolved") : { value: "open", tone: "warn" as const }];
    }
    case "pr_review_thread_resolved": {
      const p = event.payload;
      return [{ value: shortPr(p.pr) }, { value: p.path ? `${p.path}${p.line != null ? `:${p.line}` : ""}` : p.thread, label: "thread" },
        p.resolved ? { value: "resolved", tone: "good" as const } : { value: "reopened", tone: "warn" as const }];
    }
  }
}
