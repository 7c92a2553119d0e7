import type { StreamRequest } from "../StreamRequest.js";
import type { TransportSink } from "./TransportSink.js";

/**
 * One way of reading the hub's stream. `run` makes one connection: it resolves when the server
 * ends the stream or `signal` aborts it, and rejects when the connection fails. Reconnecting and
 * resuming are the stream's job, not the transport's. @internal
 */
export interface Transport {
  /** Runs one connection for `request`, reporting to `sink`, until it ends or `signal` aborts. */
  run(request: StreamRequest, sink: TransportSink, signal: AbortSignal): Promise<void>;
}
