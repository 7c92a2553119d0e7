// The state answer arrives in three shapes: HTTP JSON (`key` is a JSON array), SignalR JSON (`key`
// is the array's JSON text) and SignalR MessagePack (maps, `createdAt` as a Date). All become one
// LoadedState, and every key is re-written by this client's own JSON.stringify, so an entity from
// the state and the same entity keyed from a streamed event's payload have the same id, whatever
// escaping or number spelling the hub's JSON used.
import { asObject } from "../asObject.js";
import { decodeEvent } from "../events/decodeEvent.js";
import { EventStreamError } from "../EventStreamError.js";
import type { EntityKeyDefinition } from "./EntityKeyDefinition.js";
import type { LiveEntity } from "./LiveEntity.js";
import { liveEntityId } from "./liveEntityId.js";
import type { LoadedState } from "./LoadedState.js";

const invalid = (what: string) => new EventStreamError("invalid_state", `The hub's live state answer is malformed: ${what}.`, false);

/** Decodes the hub's live-state answer (`GET /api/v1/state` or `GetState`). Throws a non-retryable `invalid_state` error when it is malformed. @internal */
export function decodeLiveState(answer: unknown): LoadedState {
  const body = asObject(answer);
  if (body === null) throw invalid("not an object");
  if (typeof body.offset !== "string" || body.offset === "") throw invalid("no offset");
  if (!Array.isArray(body.entities)) throw invalid("no entities");

  const entities: LiveEntity[] = body.entities.map((raw, i) => {
    const e = asObject(raw);
    if (e === null || typeof e.kind !== "string") throw invalid(`entity ${i} has no kind`);
    const keyValues = typeof e.key === "string" ? JSON.parse(e.key) as unknown : e.key;
    if (!Array.isArray(keyValues)) throw invalid(`entity ${i} has no key array`);
    const event = decodeEvent(e.event);
    return { id: liveEntityId(event.projectId, ...keyValues), kind: e.kind, projectId: event.projectId, keyValues, event };
  });

  const unkeyedTypes = Array.isArray(body.unkeyedTypes) ? body.unkeyedTypes.filter((t): t is string => typeof t === "string") : [];

  const entityKeys: Record<string, EntityKeyDefinition> = {};
  const keys = asObject(body.entityKeys);
  if (keys === null) throw invalid("no entityKeys (a hub older than this client's live state)");
  for (const [type, rawKey] of Object.entries(keys)) {
    const k = asObject(rawKey);
    if (k === null || typeof k.kind !== "string" || !Array.isArray(k.fields) || !k.fields.every((f) => typeof f === "string"))
      throw invalid(`the key of ${type}`);
    entityKeys[type] = Object.freeze({ kind: k.kind, fields: Object.freeze([...k.fields as string[]]) });
  }
  return { offset: body.offset, entities, unkeyedTypes, entityKeys: Object.freeze(entityKeys) };
}
