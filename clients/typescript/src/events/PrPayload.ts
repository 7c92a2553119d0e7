import type { CiState, Mergeability, PrState, ReviewDecision } from "./PayloadValues.js";

/** Payload of `pr_created` and `pr_updated`. */
export interface PrPayload {
  /** The PR's URL, its identity. */
  readonly url: string;
  /** The session the PR belongs to. */
  readonly session: string;
  /** The PR's state. */
  readonly state: PrState;
  /** The PR's CI state. */
  readonly ci: CiState;
  /** The PR's review decision. */
  readonly review: ReviewDecision;
  /** Whether the PR can be merged. */
  readonly mergeability: Mergeability;
}
