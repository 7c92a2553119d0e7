// The value sets of the payload fields, as the database's CHECK constraints define them. They are
// generated from Contracts/event-types.json with the payloads (eventTypes.generated.ts).
export type { SessionActivity, PrState, CiState, ReviewDecision, Mergeability, CheckStatus } from "./eventTypes.generated.js";
