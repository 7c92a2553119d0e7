import { useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import type { ConnectionSnapshot } from "../ConnectionSnapshot.js";
import { EventStream } from "../EventStream.js";
import type { EventStreamOptions } from "../EventStreamOptions.js";
import { RecentEvents } from "../RecentEvents.js";
import { isStreamReset } from "../StreamItem.js";
import type { UseEventStreamResult } from "./UseEventStreamResult.js";
import type { UseEventStreamSettings } from "./UseEventStreamSettings.js";

const idle: ConnectionSnapshot = Object.freeze({ state: "idle", offset: null, error: null, failedAttempts: 0, lastReset: null, duplicates: 0, paused: false });
const noSubscription = () => () => undefined;

/**
 * Streams the hub's events into a component: the newest events (newest first, capped), the
 * connection state and the current offset. The stream is re-created when what it selects
 * changes (url, projects, types, start offset, transport, protocol, SSE reader); callbacks in
 * `options` may change freely. Re-renders are batched (`renderIntervalInMilliseconds`), so a
 * burst of events costs one render. Pass `null` options to stream nothing.
 *
 * @example
 * ```tsx
 * const { events, state, offset } = useEventStream({ url: "", projects: ["ao"], after: "0" });
 * return <ul>{events.map((e) => <li key={e.offset}>{e.type}</li>)}</ul>;
 * ```
 */
export function useEventStream(options: EventStreamOptions | null, settings: UseEventStreamSettings = {}): UseEventStreamResult {
  const { enabled = true, capacity = 500, renderIntervalInMilliseconds = 100 } = settings;
  const latest = useRef(options);
  latest.current = options;

  const key = options === null ? null : JSON.stringify([options.url, options.projects ?? [], options.types ?? [],
    options.after ?? null, options.transport ?? "signalr", options.protocol ?? "json", options.sseReader ?? "auto",
    options.sseIdleTimeoutInMilliseconds ?? null, options.connectTimeoutInMilliseconds ?? null, options.retryDelaysInMilliseconds ?? null, !!options.accessTokenFactory]);

  const stream = useMemo(() => {
    const o = latest.current;
    if (o === null) return null;
    return new EventStream({
      ...o,
      accessTokenFactory: o.accessTokenFactory ? () => latest.current!.accessTokenFactory!() : undefined,
      onNotice: (notice) => latest.current?.onNotice?.(notice),
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the key names everything the stream depends on
  }, [key]);
  const recent = useMemo(() => new RecentEvents(capacity, renderIntervalInMilliseconds), [stream, capacity, renderIntervalInMilliseconds]);

  useEffect(() => {
    if (stream === null || !enabled) return;
    // Unsubscribing the only consumer stops the stream; subscribing again resumes after its offset.
    // A reset means the events shown may no longer add up: the list starts afresh (the component
    // sees `lastReset` and refetches), and the stream continues after the reset's offset.
    return stream.subscribe((item) => {
      if (isStreamReset(item)) recent.clear();
      else recent.push(item);
    });
  }, [stream, recent, enabled]);

  // State and error are read one by one (primitives or stable references), so a new offset on
  // every event does not re-render; the offset shown is that of the newest event rendered.
  const store = stream?.state;
  const subscribe = store?.subscribe ?? noSubscription;
  const readState = () => (store ? store.getSnapshot().state : idle.state);
  const readError = () => (store ? store.getSnapshot().error : null);
  const readReset = () => (store ? store.getSnapshot().lastReset : null);
  const state = useSyncExternalStore(subscribe, readState, readState);
  const error = useSyncExternalStore(subscribe, readError, readError);
  const lastReset = useSyncExternalStore(subscribe, readReset, readReset);
  const events = useSyncExternalStore(recent.subscribe, recent.getSnapshot, recent.getSnapshot);
  const offset = events[0]?.offset ?? store?.getSnapshot().offset ?? null;

  return { events, received: recent.count, state, offset, error, lastReset, stream };
}
