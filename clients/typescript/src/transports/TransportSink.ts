import type { ProjectNotice } from "../ProjectNotice.js";

/** What a transport reports to the stream during one connection. @internal */
export interface TransportSink {
  /** The stream is open: events may follow. */
  open(): void;
  /** One event as the transport decoded it (JSON object or MessagePack map). May throw. */
  event(frame: unknown): void;
  /** A project notice (SignalR only). */
  notice(notice: ProjectNotice): void;
  /** The server's `retry:` hint, in milliseconds (SSE only). */
  retryHint(delayInMilliseconds: number): void;
}
