// Generated from Contracts/event-types.json (eventTypes.generated.ts); re-exported under its own file like the other payloads.
export type { PrReviewThreadAddedPayload } from "./eventTypes.generated.js";
