// A hub's connection limit, as the client reports it: over SSE the refusal is a 429 with the code in
// its body; over SignalR the hub accepts the connection and closes it at its handshake with the
// code in the close message. Both must say `too_many_connections_per_address` (retried with
// backoff), not a plain transport error, so a dashboard can tell "too many tabs" from "network down".
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStream } from "../../src/index.js";
import { waitUntil } from "../support/collect.js";
import { closeDb, connectionString } from "../support/db.js";
import { freePort, HubProcess } from "../support/HubProcess.js";
import { allTransports } from "../support/transports.js";

let hub: HubProcess;
beforeAll(async () => {
  hub = await HubProcess.start(await freePort(), { "ConnectionStrings:EventHub": connectionString(), "Limits:MaxConnectionsPerAddress": "1" });
});
afterAll(async () => {
  await hub?.stop();
  await closeDb();
});

describe.each(allTransports)("the connection limit over %s", (_name, transport) => {
  it("is reported with its code while the client retries with backoff", async () => {
    const first = new EventStream({ url: hub.url, ...transport });
    const second = new EventStream({ url: hub.url, retryDelaysInMilliseconds: [50, 200], ...transport });
    try {
      first.subscribe(() => undefined);
      await waitUntil(() => first.state.getSnapshot().state === "live", (fn) => first.state.subscribe(fn), 15_000, () => "the first stream is not live");
      second.subscribe(() => undefined);
      await waitUntil(() => second.state.getSnapshot().error !== null, (fn) => second.state.subscribe(fn), 15_000, () => "no error");
      expect(second.state.getSnapshot()).toMatchObject({
        state: "reconnecting", error: { code: "too_many_connections_per_address", retry: "with_backoff" },
      });
    } finally {
      await second.stop();
      await first.stop();
    }
  });
});
