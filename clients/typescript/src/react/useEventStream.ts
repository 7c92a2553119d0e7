import { useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import type { ConnectionSnapshot } from "../ConnectionSnapshot.js";
import { EventStream } from "../EventStream.js";
import type { EventStreamOptions } from "../EventStreamOptions.js";
import { RecentEvents } from "../RecentEvents.js";
import type { UseEventStreamResult } from "./UseEventStreamResult.js";
import type { UseEventStreamSettings } from "./UseEventStreamSettings.js";

const idle: ConnectionSnapshot = Object.freeze({ state: "idle", offset: null, error: null, failedAttempts: 0 });
const noSubscription = () => () => undefined;
const idleSnapshot = () => idle;

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
    options.retryDelaysInMilliseconds ?? null, !!options.accessTokenFactory]);

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
    return stream.subscribe((event) => recent.push(event));
  }, [stream, recent, enabled]);

  const connection = useSyncExternalStore(stream?.state.subscribe ?? noSubscription,
    stream?.state.getSnapshot ?? idleSnapshot, stream?.state.getSnapshot ?? idleSnapshot);
  const events = useSyncExternalStore(recent.subscribe, recent.getSnapshot, recent.getSnapshot);

  return { events, received: recent.count, state: connection.state, offset: connection.offset, error: connection.error, stream };
}
