import type { ProjectNotice } from "../ProjectNotice.js";

/** The reset signal as the hub sends it (the SSE `reset` frame's data, or parsed from the SignalR error). @internal */
export interface ResetSignal {
  readonly reason: string;
  readonly message: string;
  readonly offset: string;
}

/** What a transport reports to the stream during one connection. @internal */
export interface TransportSink {
  /** The stream is open: events may follow. */
  open(): void;
  /** One event as the transport decoded it (JSON object or MessagePack map). May throw. */
  event(frame: unknown): void;
  /** A project notice (SignalR only). */
  notice(notice: ProjectNotice): void;
  /**
   * The hub reset the stream (its offset belongs to another log, or was pruned): the connection
   * ends after this; the stream continues from `offset`.
   */
  reset(reset: ResetSignal): void;
  /** "From now": the hub's head offset, fetched before the stream opened; the stream goes on after it. */
  head(offset: string): void;
  /** The server's `retry:` hint, in milliseconds (SSE only). */
  retryHint(delayInMilliseconds: number): void;
}
