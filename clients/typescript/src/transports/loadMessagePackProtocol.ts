import type { IHubProtocol } from "@microsoft/signalr";
import { EventStreamError } from "../EventStreamError.js";

let cached: Promise<IHubProtocol> | undefined;

/**
 * Loads `@microsoft/signalr-protocol-msgpack` on first use, so that JSON-only users neither
 * install nor bundle it. The hub sends `createdAt` as a MessagePack timestamp, which this
 * protocol decodes to a `Date`, and the payload as a map, decoded to a plain object. @internal
 */
export function loadMessagePackProtocol(): Promise<IHubProtocol> {
  cached ??= import("@microsoft/signalr-protocol-msgpack").then(
    (m) => new m.MessagePackHubProtocol(),
    (e: unknown) => {
      cached = undefined;
      throw new EventStreamError("msgpack_unavailable",
        `protocol "msgpack" needs the package @microsoft/signalr-protocol-msgpack; install it or use protocol "json" (${String(e)}).`,
        false);
    },
  );
  return cached;
}
