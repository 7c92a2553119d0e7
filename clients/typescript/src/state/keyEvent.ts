import type { EventHubEvent } from "../events/EventHubEvent.js";
import type { EntityKeyDefinition } from "./EntityKeyDefinition.js";
import type { LiveEntity } from "./LiveEntity.js";
import { liveEntityId } from "./liveEntityId.js";

/**
 * The entity `event` describes, keyed as the hub keys it (the key is the payload's values of the
 * key fields, in order; a missing field is `null`, as in the hub's JSON key), or null when its
 * type has no key. @internal
 */
export function keyEvent(event: EventHubEvent, keys: Readonly<Record<string, EntityKeyDefinition>>): LiveEntity | null {
  const key = Object.hasOwn(keys, event.type) ? keys[event.type]! : undefined;
  if (key === undefined) return null;
  // A payload that is not an object (a contract violation, passed through) has no fields: the
  // hub's key of it is all nulls too (jsonb's -> finds nothing in an array or a scalar).
  const raw: unknown = event.payload;
  const payload = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? raw as Readonly<Record<string, unknown>> : {};
  const keyValues = key.fields.map((f) => (Object.hasOwn(payload, f) ? payload[f] ?? null : null));
  return { id: liveEntityId(event.projectId, ...keyValues), kind: key.kind, projectId: event.projectId, keyValues, event };
}
