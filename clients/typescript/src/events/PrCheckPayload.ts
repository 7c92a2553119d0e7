import type { CheckStatus } from "./PayloadValues.js";

/** Payload of `pr_check_recorded`. */
export interface PrCheckPayload {
  /** The URL of the PR the check ran on. */
  readonly pr: string;
  /** The check's name. */
  readonly name: string;
  /** The commit the check ran on. */
  readonly commit: string;
  /** The check's status. */
  readonly status: CheckStatus;
}
