import type { ChangeEventBase } from "./ChangeEventBase.js";
import type { EventPayloads } from "./eventTypes.generated.js";
import type { KnownEventType } from "./KnownEventType.js";

/**
 * The event types of the CDC contract: a union discriminated by `type`, one member per type of
 * Contracts/event-types.json (a type added there joins it when the types are regenerated). Check
 * an {@link EventHubEvent} with {@link isKnownEvent} first, then `switch (event.type)` narrows the
 * payload.
 */
export type KnownEvent = { [T in KnownEventType]: ChangeEventBase<T, EventPayloads[T]> }[KnownEventType];
