import type { SessionCreatedPayload } from "./eventTypes.generated.js";

/**
 * The fields every session event carries: the payload of `session_created`; `session_updated`'s
 * ({@link SessionUpdatedPayload}) adds the preview. Generated from Contracts/event-types.json.
 */
export type SessionPayload = SessionCreatedPayload;
export type { SessionCreatedPayload, SessionUpdatedPayload } from "./eventTypes.generated.js";
