/** One project as the hub lists it (`GET /api/v1/projects`). */
export interface ProjectInfo {
  /** The project id, as streams and state reads filter on it. */
  readonly id: string;
  /** The orchestrator's display name, or null. */
  readonly displayName: string | null;
  /** Whether the orchestrator archived the project (its events stay readable). */
  readonly archived: boolean;
}
