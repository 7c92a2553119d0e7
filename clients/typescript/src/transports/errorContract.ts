import type { RetryMode } from "../RetryMode.js";

/** The family of an error code; `reset` marks a reset reason (not an error: the stream continues). @internal */
export type ErrorKind = "request" | "access" | "limit" | "server" | "reset";

/**
 * The hub's error contract as this client knows it: every code and how it is retried. The source
 * is `Contracts/ErrorContract.cs`; `test/unit/errorContract.test.ts` fails when this table and
 * `Contracts/error-contract.json` (written from it) differ. @internal
 */
export const ERROR_CONTRACT: Readonly<Record<string, { readonly kind: ErrorKind; readonly retry: RetryMode }>> = {
  invalid_offset: { kind: "request", retry: "never" },
  offset_out_of_range: { kind: "request", retry: "never" },
  invalid_project: { kind: "request", retry: "never" },
  invalid_type: { kind: "request", retry: "never" },
  too_many_projects: { kind: "request", retry: "never" },
  too_many_types: { kind: "request", retry: "never" },
  missing_request: { kind: "request", retry: "never" },
  not_found: { kind: "request", retry: "never" },
  method_not_allowed: { kind: "request", retry: "never" },
  invalid_parameter: { kind: "request", retry: "never" },
  unauthenticated: { kind: "access", retry: "with_fresh_token" },
  token_expired: { kind: "access", retry: "with_fresh_token" },
  forbidden_project: { kind: "access", retry: "never" },
  no_projects: { kind: "access", retry: "never" },
  invalid_projects_claim: { kind: "access", retry: "never" },
  host_not_allowed: { kind: "access", retry: "never" },
  origin_not_allowed: { kind: "access", retry: "never" },
  too_many_connections_per_principal: { kind: "limit", retry: "with_backoff" },
  too_many_connections_per_address: { kind: "limit", retry: "with_backoff" },
  too_many_streams: { kind: "limit", retry: "never" },
  unavailable: { kind: "server", retry: "with_backoff" },
  internal_error: { kind: "server", retry: "with_backoff" },
  server_ended: { kind: "server", retry: "at_once" },
  offset_from_another_log: { kind: "reset", retry: "at_once" },
  offset_pruned: { kind: "reset", retry: "at_once" },
  offset_format_changed: { kind: "reset", retry: "at_once" },
};

/**
 * How to retry `code`. A code this client does not know (a newer hub's) is retried with backoff:
 * it cannot be told apart from a transient one, and backing off keeps a wrong guess cheap. @internal
 */
export function retryOf(code: string): RetryMode {
  return Object.hasOwn(ERROR_CONTRACT, code) ? ERROR_CONTRACT[code]!.retry : "with_backoff";
}

/** Whether the contract knows `code` as an error (not a reset reason). @internal */
export function isKnownErrorCode(code: string): boolean {
  return Object.hasOwn(ERROR_CONTRACT, code) && ERROR_CONTRACT[code]!.kind !== "reset";
}
