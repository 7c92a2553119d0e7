import type { EventStreamOptions } from "../EventStreamOptions.js";
import { DEFAULT_CONNECT_TIMEOUT_IN_MILLISECONDS, SignalRTransport } from "./SignalRTransport.js";
import { DEFAULT_SSE_IDLE_TIMEOUT_IN_MILLISECONDS, SseTransport } from "./SseTransport.js";
import type { StateLoader } from "./StateLoader.js";
import type { Transport } from "./Transport.js";

/** The transport `options` choose (SignalR by default, or SSE); both also load the live state. @internal */
export function createTransport(options: EventStreamOptions): Transport & StateLoader {
  return (options.transport ?? "signalr") === "sse"
    ? new SseTransport(options.url, options.sseReader ?? "auto", options.accessTokenFactory,
      options.sseIdleTimeoutInMilliseconds ?? DEFAULT_SSE_IDLE_TIMEOUT_IN_MILLISECONDS)
    : new SignalRTransport(options.url, options.protocol ?? "json", options.accessTokenFactory,
      options.connectTimeoutInMilliseconds ?? DEFAULT_CONNECT_TIMEOUT_IN_MILLISECONDS);
}
