// Why the stream, not the transports, owns reconnection: resume must behave the same over SSE
// and SignalR, across a dropped connection and a hub restart. Each attempt asks the hub for
// the events after the offset of the last event this stream delivered; the hub sends every
// event after an offset exactly once, so nothing is lost or repeated. SignalR's automatic
// reconnect and the browser EventSource's own retry are both bypassed: neither knows our offset
// at the moment of the drop (SignalR would not even re-open the stream).
import { abortableDelay } from "./abortableDelay.js";
import { ConnectionStateStore } from "./ConnectionStateStore.js";
import { checkTransportOptions } from "./checkTransportOptions.js";
import { decodeEvent } from "./events/decodeEvent.js";
import type { StreamItem } from "./StreamItem.js";
import type { StreamReset } from "./StreamReset.js";
import type { EventStreamOptions } from "./EventStreamOptions.js";
import { EventStreamError } from "./EventStreamError.js";
import { ItemQueue } from "./ItemQueue.js";
import { DEFAULT_RETRY_DELAYS_IN_MILLISECONDS } from "./RetryDelays.js";
import { reportError } from "./reportError.js";
import { SeqWindow } from "./SeqWindow.js";
import type { StreamObserver } from "./StreamObserver.js";
import { createTransport } from "./transports/createTransport.js";
import type { Transport } from "./transports/Transport.js";
import type { ResetSignal, TransportSink } from "./transports/TransportSink.js";

/**
 * A stream that ran this long counts as progress: the next failure starts the backoff afresh
 * (the .NET client's `StableConnection`).
 */
const STABLE_STREAM_MS = 10_000;

/**
 * A stream that ran this long on a fresh token shows the hub took that token: when it expires too,
 * the stream asks for another instead of stopping (the .NET client's `TokenCarriedStream`). Short,
 * so that tokens of a few seconds carry a quiet stream; a refused stream ends within a round trip.
 */
const TOKEN_CARRIED_STREAM_MS = 1_000;

/**
 * A typed, self-resuming stream of the hub's events, over SignalR or SSE.
 *
 * Consume it with `for await (const event of stream)` or with {@link EventStream.subscribe};
 * the first consumer starts it, and it stops when the last one leaves or {@link EventStream.stop}
 * is called. While it runs it reconnects after any drop (with `retryDelaysInMilliseconds`) and
 * resumes after the last event it delivered. An event that arrives twice (same `seq`) is
 * delivered once, counted in `state` (`duplicates`) and reported with a console warning. It stops by itself only on an
 * error that retrying cannot fix, such as a malformed offset. Its connection state is in
 * {@link EventStream.state}.
 *
 * When the hub cannot continue from the offset without a gap (the offset belongs to another log,
 * or retention pruned events after it), the stream delivers a {@link StreamReset} item
 * (`isStreamReset(item)`): refetch your state, then go on; the stream continues after
 * `reset.offset` by itself. With `after: null` ("from now") the stream first asks the hub for its
 * head offset and streams after it, so a drop before the first event misses nothing.
 *
 * The async iterator buffers the events its loop has not taken yet, at most `maxBufferedEvents`
 * (10,000): a loop that falls that far behind pauses the stream (its connection closes, `paused`
 * in the connection state), and once it has read half of them the stream reconnects after the
 * last event delivered, so memory stays bounded and nothing is lost or repeated. Every consumer
 * shares the one connection, so the slowest loop paces them all. The callback form has no buffer.
 *
 * @example
 * ```ts
 * const stream = new EventStream({ url: "http://127.0.0.1:5080", projects: ["ao"], after: "0" });
 * for await (const event of stream) {
 *   if (isEventType(event, "pr_updated")) console.log(event.payload.ci);
 * }
 * ```
 */
export class EventStream implements AsyncIterable<StreamItem> {
  /** The connection state, shaped for `useSyncExternalStore`. */
  readonly state: ConnectionStateStore;

  private readonly projects: readonly string[];
  private readonly types: readonly string[];
  private readonly transport: Transport;
  private readonly retryDelays: readonly number[];
  private readonly seen: SeqWindow;
  private readonly observers = new Set<StreamObserver>();
  private currentOffset: string | null;
  private run: { controller: AbortController; done: Promise<void> } | null = null;
  private retryHintInMilliseconds = 0;
  private readonly maxBuffered: number;
  // The current connection attempt's controller: a full iterator aborts it (pause), not the run.
  private attempt: AbortController | null = null;
  // Full iterators' "read half of it" promises: the run reconnects once all have settled.
  private readonly drains = new Set<Promise<void>>();

  /**
   * @param options - where to connect, what to stream, from where, and how.
   * @param transport - @internal replaces the transport `options` would choose (a seam for tests).
   */
  constructor(private readonly options: EventStreamOptions, transport?: Transport) {
    if (typeof options.url !== "string") throw new TypeError("EventStream needs the hub's base address in options.url.");
    checkTransportOptions(options);
    this.projects = [...(options.projects ?? [])];
    this.types = [...(options.types ?? [])];
    this.currentOffset = options.after ?? null;
    this.retryDelays = options.retryDelaysInMilliseconds?.length ? options.retryDelaysInMilliseconds : DEFAULT_RETRY_DELAYS_IN_MILLISECONDS;
    this.seen = new SeqWindow(options.dedupWindow ?? 10_000);
    this.maxBuffered = options.maxBufferedEvents ?? 10_000;
    if (!Number.isInteger(this.maxBuffered) || this.maxBuffered < 1) {
      throw new RangeError(`maxBufferedEvents is ${String(options.maxBufferedEvents)}; it must be a whole number of at least 1.`);
    }
    this.transport = transport ?? createTransport(options);
    this.state = new ConnectionStateStore({
      state: "idle", offset: this.currentOffset, error: null, failedAttempts: 0, lastReset: null, duplicates: 0, paused: false,
    });
  }

  /**
   * The offset a reconnect resumes after: the last event (or reset) delivered, else the start
   * offset; `null` (from now) until the first connection fetched the hub's head offset.
   */
  get offset(): string | null {
    return this.currentOffset;
  }

  /**
   * Calls `observer` (or the `next` function) for each event, and starts the stream if it is not
   * running. Returns the function that unsubscribes; the stream stops when its last consumer leaves.
   */
  subscribe(observer: StreamObserver | ((item: StreamItem) => void)): () => void {
    const o: StreamObserver = typeof observer === "function" ? { next: observer } : { ...observer };
    this.observers.add(o);
    this.start();
    return () => {
      if (!this.observers.delete(o)) return;
      if (this.observers.size === 0) void this.stop();
    };
  }

  /**
   * Stops the stream and completes every consumer; resolves once its connection is closed. It
   * can be consumed again later: it resumes after its offset.
   */
  async stop(): Promise<void> {
    const run = this.run;
    if (run === null) return;
    this.run = null; // a consumer that subscribes from now on starts a new run
    run.controller.abort();
    this.finish(null);
    await run.done;
  }

  /** Iterates over the events; `break` unsubscribes. Throws the error that stopped the stream, if any. */
  [Symbol.asyncIterator](): AsyncIterator<StreamItem> {
    const queue = new ItemQueue<StreamItem>();
    let waiter: { resolve: (r: IteratorResult<StreamItem>) => void; reject: (e: unknown) => void } | null = null;
    let ended = false;
    let failure: Error | null = null;
    // Set while this loop's buffer is full and the stream waits for it to read half of it.
    let drained: (() => void) | null = null;
    const take = (): StreamItem => {
      const item = queue.shift()!;
      if (drained !== null && queue.length <= this.maxBuffered / 2) { drained(); drained = null; }
      return item;
    };
    const settle = () => {
      if (waiter === null) return;
      const w = waiter;
      if (queue.length > 0) { waiter = null; w.resolve({ value: take(), done: false }); }
      else if (failure !== null) { waiter = null; const f = failure; failure = null; w.reject(f); }
      else if (ended) { waiter = null; w.resolve({ value: undefined, done: true }); }
    };
    const release = () => { drained?.(); drained = null; };
    const unsubscribe = this.subscribe({
      next: (event) => {
        queue.push(event);
        settle();
        if (queue.length >= this.maxBuffered && drained === null) {
          this.pause(new Promise<void>((resolve) => { drained = resolve; }));
        }
      },
      error: (error) => { ended = true; failure = error; release(); settle(); },
      complete: () => { ended = true; release(); settle(); },
    });
    return {
      next: () => {
        if (queue.length > 0) return Promise.resolve({ value: take(), done: false });
        if (failure !== null) { const f = failure; failure = null; return Promise.reject(f); }
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => { waiter = { resolve, reject }; });
      },
      return: () => {
        ended = true;
        queue.clear();
        release();
        unsubscribe();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  /**
   * An iterator's buffer is full: ends the current connection attempt at once (its sink drops
   * what still arrives, so the buffer holds no more than its bound and the offset stays at the
   * last event delivered), and the run reconnects after that offset once `drained` settles.
   */
  private pause(drained: Promise<void>): void {
    this.drains.add(drained);
    this.state.update({ paused: true });
    this.attempt?.abort();
  }

  /** Resolves once every full iterator has read half of its buffer (or left), or `signal` aborts. */
  private async waitForDrains(signal: AbortSignal): Promise<void> {
    let onAbort = () => {};
    const stopped = new Promise<void>((resolve) => { onAbort = resolve; });
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (this.drains.size > 0 && !signal.aborted) {
        const waiting = [...this.drains];
        await Promise.race([Promise.all(waiting), stopped]);
        if (signal.aborted) return;
        for (const d of waiting) this.drains.delete(d);
      }
      this.state.update({ paused: false });
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  private start(): void {
    if (this.run !== null) return;
    const controller = new AbortController();
    const run = { controller, done: Promise.resolve() };
    this.run = run;
    // Only a fatal error ends a run by itself; stop() finishes its run at once.
    run.done = this.loop(controller.signal).then(
      () => undefined,
      (error: unknown) => {
        if (this.run !== run) return;
        this.run = null;
        this.finish(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  private finish(error: Error | null): void {
    this.drains.clear(); // a stopped stream waits for no loop; the next run starts unpaused
    this.state.update({ state: "stopped", error, paused: false });
    const observers = [...this.observers];
    this.observers.clear();
    for (const o of observers) {
      try {
        if (error) o.error?.(error);
        else o.complete?.();
      } catch (e) {
        reportError(e);
      }
    }
  }

  /** Connects, reads, and reconnects until aborted (resolves) or a fatal error (rejects). */
  private async loop(signal: AbortSignal): Promise<void> {
    let failedAttempts = 0;
    let everLive = false;
    // A fresh-token error (expired, unauthenticated) since the last progress: a second one stops.
    // Progress here is an event, or a stream that ran on the fresh token for TOKEN_CARRIED_STREAM_MS:
    // then the error is that token's own expiry (a quiet stream outlives every token it gets), not
    // the same failure again. "It went live" alone would not tell them apart over SignalR: the hub does not
    // acknowledge a stream, and within its clock skew of exp it accepts the connection but refuses
    // the stream, so a factory of just-expired tokens would reconnect at once forever.
    let freshTokenTried = false;
    let liveSince = 0;
    let continuing = false; // the last connection ended with a reset: continue at once, still "live"
    while (!signal.aborted) {
      if (this.drains.size > 0) {
        // Paused by a full iterator: reconnect once it has read half of what it holds. Not a
        // failure: the state stays as it was (live), with `paused` set meanwhile.
        await this.waitForDrains(signal);
        if (signal.aborted) return;
      }
      if (!continuing) this.state.update({ state: everLive || failedAttempts > 0 ? "reconnecting" : "connecting" });
      continuing = false;
      let wentLive = false;
      // Progress, as for the fresh token above: an event, or a stream that ran STABLE_STREAM_MS.
      // Only progress starts the backoff afresh: "it went live" alone would not (SSE opens on the
      // response's headers, SignalR as soon as the stream is asked for), and a hub that accepts a
      // stream and ends it at once (its database down) was asked again without a pause, hundreds
      // of times a second.
      let progressed = false;
      let reset: ResetSignal | null = null;
      // This attempt's own signal: the run's abort ends it, and so does a pause. The sink checks
      // it, so nothing arriving after a pause is delivered (the next attempt resumes after the
      // last event that was).
      const attempt = new AbortController();
      const endAttempt = () => attempt.abort();
      signal.addEventListener("abort", endAttempt, { once: true });
      this.attempt = attempt;
      const attemptSignal = attempt.signal;
      const sink: TransportSink = {
        open: () => {
          if (attemptSignal.aborted) return;
          wentLive = everLive = true;
          liveSince = performance.now();
          this.state.update({ state: "live", error: null, failedAttempts: 0 });
        },
        event: (frame) => {
          if (attemptSignal.aborted) return;
          this.deliver(frame);
          freshTokenTried = false;
          progressed = true;
          failedAttempts = 0; // so an attempt that then pauses starts the next failures afresh
        },
        notice: (notice) => this.options.onNotice?.(notice),
        reset: (signalled) => {
          if (!attemptSignal.aborted) reset = signalled;
        },
        head: (offset) => {
          if (attemptSignal.aborted || this.currentOffset !== null) return;
          this.currentOffset = offset;
          this.state.update({ offset });
        },
        retryHint: (ms) => { this.retryHintInMilliseconds = ms; },
      };
      let error: Error;
      try { // the attempt's clean-up: its listener on the run's signal
        try {
          await this.transport.run({ projects: this.projects, types: this.types, after: this.currentOffset }, sink, attemptSignal);
          if (signal.aborted) return;
          if (attemptSignal.aborted) { continuing = true; continue; } // paused
          if (reset !== null) {
            failedAttempts = 0; // the hub answered: progress
            this.deliverReset(reset);
            continuing = wentLive;
            continue;
          }
          error = new EventStreamError("stream_ended", "The hub ended the stream; resuming after the last event delivered.", true);
        } catch (e) {
          if (signal.aborted) return;
          if (attemptSignal.aborted) { continuing = true; continue; } // paused: whatever the transport threw on its way out
          if (!(e instanceof EventStreamError) || !e.retryable) throw e;
          if (e.retry === "with_fresh_token") {
            // The next attempt asks the token factory again; if that token fails the same way, no retry will help.
            if (freshTokenTried && wentLive && performance.now() - liveSince >= TOKEN_CARRIED_STREAM_MS) freshTokenTried = false;
            // Without a factory there is no fresh token to ask for: the same request fails the same way.
            if (freshTokenTried || !this.options.accessTokenFactory) throw e;
            freshTokenTried = true;
          }
          error = e;
        }
      } finally {
        signal.removeEventListener("abort", endAttempt);
        if (this.attempt === attempt) this.attempt = null;
      }
      if (wentLive && performance.now() - liveSince >= STABLE_STREAM_MS) progressed = true;
      failedAttempts = progressed ? 1 : failedAttempts + 1;
      this.state.update({ state: "reconnecting", error, failedAttempts });
      // The contract's "at once" reconnects without waiting once after progress, and a fresh token
      // at once (a second one without progress stops, above); the rest backs off.
      const atOnce = error instanceof EventStreamError
        && ((error.retry === "at_once" && failedAttempts === 1) || error.retry === "with_fresh_token");
      const delay = atOnce ? 0 : this.retryDelays[Math.min(failedAttempts - 1, this.retryDelays.length - 1)]!;
      await abortableDelay(Math.max(delay, !atOnce && failedAttempts > 1 ? this.retryHintInMilliseconds : 0), signal);
    }
  }

  private deliver(frame: unknown): void {
    const event = decodeEvent(frame);
    if (!this.seen.add(event.seq)) {
      this.countDuplicate(event.seq, event.offset);
      return;
    }
    this.currentOffset = event.offset;
    this.state.update({ offset: event.offset });
    this.emit(event);
  }

  /**
   * Drops a repeated event but makes it visible: the guard must not hide a hub fault (issue 14),
   * so the count is in the connection state and the first one is logged (once: a fault that
   * repeats a whole batch would otherwise flood the console).
   */
  private countDuplicate(seq: number, offset: string): void {
    const duplicates = this.state.getSnapshot().duplicates + 1;
    this.state.update({ duplicates });
    if (duplicates === 1) {
      console.warn(`EventHub client: the hub sent event seq ${seq} (offset ${offset}) a second time; it was dropped. `
        + "The hub should send each event once; see stream.state.getSnapshot().duplicates for the count.");
    }
  }

  /** Hands the reset to the consumers, then moves the offset: the next connection continues after it. */
  private deliverReset(signalled: ResetSignal): void {
    const reset: StreamReset = Object.freeze({
      kind: "reset", reason: signalled.reason, message: signalled.message, offset: signalled.offset,
      previousOffset: this.currentOffset, projects: this.projects, receivedAt: new Date(),
    });
    this.seen.clear(); // the log may be another one, with its own seq values
    this.currentOffset = reset.offset;
    this.state.update({ offset: reset.offset, lastReset: reset });
    this.emit(reset);
  }

  private emit(item: StreamItem): void {
    for (const o of this.observers) {
      try {
        o.next(item);
      } catch (e) {
        reportError(e); // a consumer's bug must not break the stream
      }
    }
  }
}
