import { useEffect, useMemo, useRef, useSyncExternalStore } from "react";
import { LiveStateStore } from "../state/LiveStateStore.js";
import type { LiveStateSnapshot } from "../state/LiveStateSnapshot.js";
import type { UseLiveStateResult } from "./UseLiveStateResult.js";
import type { UseLiveStateSettings } from "./UseLiveStateSettings.js";

const idle = new LiveStateStore({ url: "" }).getSnapshot(); // never started: the snapshot of "nothing selected"
const noSubscription = () => () => undefined;
const idleSnapshot = (): LiveStateSnapshot => idle;

/**
 * The live state of the selected projects in a component: sessions, PRs, checks and review
 * threads by id (`liveEntityId(project, ...key)`), the offset they are exact at, and the status.
 * The store loads the state, streams after it, reloads by itself on a reset, and is re-created
 * when what it selects changes (url, projects, types, transport, protocol, SSE reader); callbacks
 * may change freely. Re-renders are batched (`notifyIntervalInMilliseconds`, default 100). Pass
 * `null` to select nothing.
 *
 * @example
 * ```tsx
 * const { prs, threads, status } = useLiveState({ url: "", projects: ["ao"] });
 * const open = [...threads.values()].filter((t) => !t.event.payload.resolved);
 * ```
 */
export function useLiveState(settings: UseLiveStateSettings | null): UseLiveStateResult {
  const latest = useRef(settings);
  latest.current = settings;
  const enabled = settings?.enabled ?? true;

  const key = settings === null ? null : JSON.stringify([settings.url, settings.projects ?? [], settings.types ?? [],
    settings.transport ?? "signalr", settings.protocol ?? "json", settings.sseReader ?? "auto",
    settings.sseIdleTimeoutInMilliseconds ?? null, settings.connectTimeoutInMilliseconds ?? null, settings.retryDelaysInMilliseconds ?? null, settings.notifyIntervalInMilliseconds ?? null, !!settings.accessTokenFactory]);

  const store = useMemo(() => {
    const s = latest.current;
    if (s === null) return null;
    const { enabled: _, ...options } = s;
    return new LiveStateStore({
      ...options,
      accessTokenFactory: s.accessTokenFactory ? () => latest.current!.accessTokenFactory!() : undefined,
      onNotice: (notice) => latest.current?.onNotice?.(notice),
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the key names everything the store depends on
  }, [key]);

  useEffect(() => {
    if (store === null || !enabled) return;
    // A failed start is in the snapshot (status "stopped", error); stopping resumes after the offset on the next start.
    void store.start().catch(() => undefined);
    return () => void store.stop();
  }, [store, enabled]);

  const snapshot = useSyncExternalStore(store?.subscribe ?? noSubscription, store?.getSnapshot ?? idleSnapshot, store?.getSnapshot ?? idleSnapshot);
  return useMemo(() => ({ ...snapshot, store }), [snapshot, store]);
}
