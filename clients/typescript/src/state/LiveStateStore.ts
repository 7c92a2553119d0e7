// Why the store runs a new EventStream after each load, rather than one stream throughout: after a
// reset the stream would continue after the reset's offset, but the reloaded state is exact at its
// own (later) offset; applying the events between the two onto the new state would put older events
// over newer ones. Offsets are opaque, so the store cannot skip them by comparing: it stops the
// stream at the reset, loads the state, and streams after the state's offset. A dropped connection,
// by contrast, is the EventStream's business: it resumes after the last event applied, so the state
// stays exact without a reload.
import { abortableDelay } from "../abortableDelay.js";
import type { ConnectionSnapshot } from "../ConnectionSnapshot.js";
import { checkTransportOptions } from "../checkTransportOptions.js";
import { EventStream } from "../EventStream.js";
import { EventStreamError } from "../EventStreamError.js";
import type { EventHubEvent } from "../events/EventHubEvent.js";
import { reportError } from "../reportError.js";
import { DEFAULT_RETRY_DELAYS_IN_MILLISECONDS } from "../RetryDelays.js";
import { isStreamReset } from "../StreamItem.js";
import type { StreamReset } from "../StreamReset.js";
import { createTransport } from "../transports/createTransport.js";
import type { StateLoader } from "../transports/StateLoader.js";
import type { Transport } from "../transports/Transport.js";
import { decodeLiveState } from "./decodeLiveState.js";
import type { EntityKeyDefinition } from "./EntityKeyDefinition.js";
import type { CheckEntityEvent, PrEntityEvent, SessionEntityEvent, ThreadEntityEvent } from "./EntityEvents.js";
import { EntityTable } from "./EntityTable.js";
import { keyEvent } from "./keyEvent.js";
import type { LiveEntity } from "./LiveEntity.js";
import { liveEntityId } from "./liveEntityId.js";
import type { LiveStateOptions } from "./LiveStateOptions.js";
import type { LiveStateSnapshot } from "./LiveStateSnapshot.js";
import type { LoadedState } from "./LoadedState.js";

/**
 * The live state of the selected projects: every session, PR, check and review thread (and any
 * kind the hub's configuration keys) with its latest event, kept current from the stream.
 *
 * {@link LiveStateStore.start} loads the hub's state (`GET /api/v1/state` over SSE, `StreamState`
 * over SignalR), then streams the events after its offset and applies each to the entity it keys
 * (latest wins, in stream order; keys come from the state's `entityKeys`). A dropped connection or
 * a hub restart resumes after the last event applied, without reloading. On a reset signal the
 * store loads the state again by itself and streams after the new offset. Read it with
 * `useSyncExternalStore(store.subscribe, store.getSnapshot)`, or `useLiveState` from
 * `@eventhub/client/react`.
 *
 * @example
 * ```ts
 * const store = new LiveStateStore({ url: "http://127.0.0.1:5080", projects: ["ao"] });
 * await store.start(); // the state is loaded
 * store.subscribe(() => {
 *   const { prs, offset } = store.getSnapshot();
 *   for (const pr of prs.values()) console.log(pr.keyValues[0], pr.event.type, "at", offset);
 * });
 * ```
 */
export class LiveStateStore {
  private readonly projects: readonly string[];
  private readonly types: readonly string[];
  private readonly transport: Transport & StateLoader;
  private readonly retryDelays: readonly number[];
  private readonly notifyInterval: number;
  private readonly table = new EntityTable();
  private readonly listeners = new Set<() => void>();
  private readonly unkeyed = new Set<string>();
  private entityKeys: Readonly<Record<string, EntityKeyDefinition>> = Object.freeze({});
  private currentOffset: string | null = null;
  private snapshot: LiveStateSnapshot;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private run: { controller: AbortController; done: Promise<void>; loaded: Promise<void> } | null = null;

  /**
   * @param options - where the hub is, what to select, which transport.
   * @param transport - @internal replaces the transport `options` would choose (a seam for tests).
   */
  constructor(private readonly options: LiveStateOptions, transport?: Transport & StateLoader) {
    if (typeof options.url !== "string") throw new TypeError("LiveStateStore needs the hub's base address in options.url.");
    checkTransportOptions(options);
    this.projects = [...(options.projects ?? [])];
    this.types = [...(options.types ?? [])];
    this.transport = transport ?? createTransport({ ...options, after: null });
    this.retryDelays = options.retryDelaysInMilliseconds?.length ? options.retryDelaysInMilliseconds : DEFAULT_RETRY_DELAYS_IN_MILLISECONDS;
    this.notifyInterval = Math.max(0, options.notifyIntervalInMilliseconds ?? 100);
    const empty = EntityTable.empty as ReadonlyMap<string, never>;
    this.snapshot = Object.freeze({
      status: "idle", offset: null, sessions: empty, prs: empty, checks: empty, threads: empty, kinds: new Map(),
      unkeyedTypes: [], entityKeys: this.entityKeys, loads: 0, lastReset: null, error: null,
    });
  }

  /** The current snapshot: the same object until the next change (bound, for `useSyncExternalStore`). */
  readonly getSnapshot = (): LiveStateSnapshot => this.snapshot;

  /** Calls `listener` after every new snapshot; returns the function that unsubscribes it (bound). It does not start the store. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  /** The offset of the last event applied (or of the loaded state), ahead of the snapshot's until the next notification; `null` before the first load. */
  get offset(): string | null {
    return this.currentOffset;
  }

  /** The entities of `kind` (for example a configured `tracker`) in the current snapshot. */
  entities(kind: string): ReadonlyMap<string, LiveEntity> {
    return this.snapshot.kinds.get(kind) ?? EntityTable.empty;
  }

  /** The entity of `kind` in `projectId` with these key values, in the current snapshot. */
  get(kind: string, projectId: string, ...keyValues: readonly unknown[]): LiveEntity | undefined {
    return this.entities(kind).get(liveEntityId(projectId, ...keyValues));
  }

  /**
   * Starts the store, if it is not running: loads the state, then streams. Resolves once the state
   * is loaded (at once when restarted after a `stop()`: it resumes after its offset); rejects if
   * it stops before that (an error retrying cannot fix, or `stop()`).
   */
  start(): Promise<void> {
    if (this.run !== null) return this.run.loaded;
    const controller = new AbortController();
    let markLoaded!: () => void;
    let failLoad!: (e: Error) => void;
    const loaded = new Promise<void>((ok, fail) => { markLoaded = ok; failLoad = fail; });
    loaded.catch(() => undefined); // a caller that does not await start() must not see an unhandled rejection
    const run = { controller, done: Promise.resolve(), loaded };
    this.run = run;
    run.done = this.loop(controller.signal, markLoaded).then(
      () => { failLoad(new EventStreamError("stopped", "The live state store was stopped before its state was loaded.", false)); },
      (e: unknown) => {
        const error = e instanceof Error ? e : new Error(String(e));
        failLoad(error);
        if (this.run !== run) return;
        this.run = null;
        this.flush();
        this.update({ status: "stopped", error });
      },
    );
    return loaded;
  }

  /** Stops the store (closing its connection); resolves once it is closed. `start()` again resumes after its offset. */
  async stop(): Promise<void> {
    const run = this.run;
    if (run === null) return;
    this.run = null;
    run.controller.abort();
    await run.done;
    if (this.run !== null) return; // started again meanwhile
    this.flush();
    this.update({ status: "stopped", error: null });
  }

  /** Publishes the events applied since the last notification now (the timer does it; tests may call it). */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (!this.table.changed && this.snapshot.offset === this.currentOffset) return;
    this.update({});
  }

  /** Loads and streams until aborted (resolves) or an error retrying cannot fix (rejects). */
  private async loop(signal: AbortSignal, loaded: () => void): Promise<void> {
    let failedAttempts = 0;
    let freshTokenTried = false;
    let after = this.currentOffset; // a restarted store resumes after its offset
    while (!signal.aborted) {
      if (after === null) {
        this.update({ status: "loading" });
        let answer: unknown;
        try {
          answer = await this.transport.loadState({ projects: this.projects, types: this.types }, signal);
        } catch (e) {
          if (signal.aborted) return;
          if (!(e instanceof EventStreamError) || !e.retryable) throw e;
          if (e.retry === "with_fresh_token") {
            if (freshTokenTried) throw e; // the token factory's fresh token failed the same way
            freshTokenTried = true;
          }
          failedAttempts++;
          this.update({ error: e });
          // As the stream does: the first "at once" in a row and a fresh token retry without waiting;
          // the rest back off.
          const atOnce = (e.retry === "at_once" && failedAttempts === 1) || e.retry === "with_fresh_token";
          await abortableDelay(atOnce ? 0 : this.retryDelays[Math.min(failedAttempts - 1, this.retryDelays.length - 1)]!, signal);
          continue;
        }
        if (signal.aborted) return;
        this.load(decodeLiveState(answer));
        failedAttempts = 0;
        freshTokenTried = false;
        after = this.currentOffset;
      }
      loaded();
      const reset = await this.follow(after!, signal);
      if (reset === null) return; // stopped
      after = null; // a reset: load the state again, then stream after its offset
    }
  }

  /** Replaces the entities with a loaded state and publishes it at once. */
  private load(state: LoadedState): void {
    this.table.replace(state.entities);
    this.entityKeys = state.entityKeys;
    this.unkeyed.clear();
    for (const t of state.unkeyedTypes) this.unkeyed.add(t);
    this.currentOffset = state.offset;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.update({ loads: this.snapshot.loads + 1, error: null, unkeyedTypes: [...this.unkeyed].sort(), entityKeys: state.entityKeys });
  }

  /**
   * Streams after `offset`, applying events, until a reset (resolves with it, the stream stopped
   * before anything after it was applied), `signal` (resolves null) or a fatal error (rejects).
   */
  private follow(offset: string, signal: AbortSignal): Promise<StreamReset | null> {
    const { notifyIntervalInMilliseconds: _, ...streamOptions } = this.options;
    const stream = new EventStream({ ...streamOptions, after: offset }, this.transport);
    return new Promise<StreamReset | null>((resolve, reject) => {
      let settled = false;
      const end = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        stopWatching();
        outcome();
      };
      const onAbort = () => void stream.stop();
      const stopWatching = stream.state.subscribe(() => this.mirror(stream.state.getSnapshot()));
      signal.addEventListener("abort", onAbort, { once: true });
      stream.subscribe({
        next: (item) => {
          if (settled) return;
          if (isStreamReset(item)) {
            this.flush();
            this.update({ lastReset: item });
            // Nothing after the reset may be applied to the old state: stop before the stream goes on.
            end(() => void stream.stop().then(() => resolve(item), () => resolve(item)));
          } else {
            this.apply(item);
          }
        },
        error: (e) => end(() => reject(e)),
        complete: () => end(() => resolve(null)),
      });
      if (signal.aborted) void stream.stop();
    });
  }

  /** The stream's connection state, as the store's status. */
  private mirror(connection: ConnectionSnapshot): void {
    const status = connection.state === "idle" || connection.state === "stopped" ? null : connection.state;
    // The stream's offset changes with every event: only a new status or error is news here.
    if (status === null || (status === this.snapshot.status && connection.error === this.snapshot.error)) return;
    this.update({ status, error: connection.error });
  }

  /** Applies one streamed event to the entity it keys (latest wins); events of unkeyed types are noted, not kept. */
  private apply(event: EventHubEvent): void {
    const entity = keyEvent(event, this.entityKeys);
    this.currentOffset = event.offset;
    if (entity === null) {
      if (!this.unkeyed.has(event.type)) {
        this.unkeyed.add(event.type);
        this.flush();
        this.update({ unkeyedTypes: [...this.unkeyed].sort() });
        return;
      }
    } else {
      this.table.put(entity);
    }
    if (this.notifyInterval === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.notifyInterval);
  }

  /** Publishes a new snapshot with the table's entities as of now and `change`, and notifies. */
  private update(change: Partial<Pick<LiveStateSnapshot, "status" | "loads" | "lastReset" | "error" | "unkeyedTypes" | "entityKeys">>): void {
    const prev = this.snapshot;
    const kinds = this.table.publish();
    const next: LiveStateSnapshot = { ...prev, ...change, kinds, offset: this.currentOffset };
    if (kinds === prev.kinds && next.offset === prev.offset && next.status === prev.status && next.loads === prev.loads
      && next.lastReset === prev.lastReset && next.error === prev.error && next.unkeyedTypes === prev.unkeyedTypes
      && next.entityKeys === prev.entityKeys) return;
    const of = <E extends EventHubEvent>(kind: string) => (kinds.get(kind) ?? EntityTable.empty) as ReadonlyMap<string, LiveEntity<E>>;
    this.snapshot = Object.freeze({
      ...next,
      sessions: of<SessionEntityEvent>("session"), prs: of<PrEntityEvent>("pr"),
      checks: of<CheckEntityEvent>("check"), threads: of<ThreadEntityEvent>("thread"),
    });
    for (const listener of [...this.listeners]) {
      try {
        listener();
      } catch (e) {
        reportError(e); // the other listeners still run
      }
    }
  }
}
