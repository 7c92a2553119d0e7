// The live state over SignalR, as the hub's `StreamState` pages.
//
// Why not `GetState`: its answer is one hub message (~3.5 MB for 10,000 entities). The hub's
// WebSocket transport sends a message in one send and closes the connection when a send takes
// longer than 10 s (ASP.NET Core's `TransportSendTimeout`), and a client closes it when no whole
// message arrived for 30 s (SignalR's server timeout: the pings wait behind the large message). On
// a slow link the state then never arrives, every attempt ends the same way (lab: 15 MB at 400 KB/s
// closed by the hub after 11.3 s, 3.3 MB at 80 KB/s by the client's timeout after 31 s; in pages
// 38.7 and 42 s; bench/results/2026-12-06-state-slow-link.md). A page is `SignalR:StatePageEntities`
// entities (500), one send and one message each.
import type { IStreamResult } from "@microsoft/signalr";
import { asObject } from "../asObject.js";
import { EventStreamError } from "../EventStreamError.js";
import { fromSignalRError } from "./hubErrors.js";
import type { StateRequest } from "./StateLoader.js";

/** What a state read needs of a started `HubConnection` (a seam for unit tests). @internal */
export interface StateHub {
  stream<T>(methodName: string, ...args: unknown[]): IStreamResult<T>;
  invoke<T>(methodName: string, ...args: unknown[]): Promise<T>;
}

/**
 * Reads the state for `request` as `StreamState` pages and resolves with it in `GetState`'s shape
 * (`{offset, entities, unkeyedTypes, entityKeys}`, for `decodeLiveState`). From a hub without
 * `StreamState` (older than this client: SignalR answers "Method does not exist") it calls
 * `GetState`. The first page carries the head, the last the entity count: a read whose pages hold
 * fewer entities, or whose pages name different offsets, is refused (retried as a transport
 * failure), never returned short. Rejects with an `EventStreamError` classified by the error contract.
 * @internal
 */
export async function readState(hub: StateHub, request: StateRequest): Promise<unknown> {
  const argument = {
    projects: request.projects.length > 0 ? [...request.projects] : null,
    types: request.types.length > 0 ? [...request.types] : null,
    after: null,
  };
  let pages: Record<string, unknown>[];
  try {
    pages = await collect(hub.stream<unknown>("StreamState", argument));
  } catch (e) {
    if (e instanceof EventStreamError) throw e;
    if (!isUnknownMethod(e)) throw fromSignalRError(e);
    try {
      return await hub.invoke<unknown>("GetState", argument);
    } catch (f) {
      throw fromSignalRError(f);
    }
  }
  return assemble(pages);
}

// SignalR's answer to a stream method the hub does not have (detailed errors or not).
const isUnknownMethod = (e: unknown): boolean => {
  const message = e instanceof Error ? e.message : String(e);
  return message.includes("HubException: Method does not exist") || message.startsWith("Unknown hub method");
};

function collect(result: IStreamResult<unknown>): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const pages: Record<string, unknown>[] = [];
    let failed = false;
    result.subscribe({
      next: (item) => {
        const page = asObject(item);
        if (page === null) {
          failed = true;
          reject(new EventStreamError("invalid_state", `The hub sent a state page that is not an object: ${JSON.stringify(item)}`, false));
        } else pages.push(page);
      },
      error: (e) => { if (!failed) reject(e); },
      complete: () => { if (!failed) resolve(pages); },
    });
  });
}

function assemble(pages: Record<string, unknown>[]): Record<string, unknown> {
  const broken = (what: string) => new EventStreamError("invalid_state", `The hub's state pages do not add up: ${what}.`, "with_backoff");
  const first = pages[0];
  const last = pages.at(-1);
  if (first === undefined || last === undefined) throw broken("no page");
  const entities: unknown[] = [];
  for (const page of pages) {
    if (page.offset !== first.offset) throw broken(`pages of offsets ${String(first.offset)} and ${String(page.offset)}`);
    if (!Array.isArray(page.entities)) throw broken("a page without entities");
    for (const entity of page.entities) entities.push(entity);
  }
  if (typeof last.entityCount !== "number" || last.entityCount !== entities.length)
    throw broken(`the last page counts ${String(last.entityCount)} entities, ${entities.length} arrived`);
  return { offset: first.offset, entities, unkeyedTypes: first.unkeyedTypes ?? [], entityKeys: first.entityKeys };
}
