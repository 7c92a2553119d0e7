/** A notice the hub sends about one project to the SignalR connections that stream it. */
export interface ProjectNotice {
  /** The project the notice is about. */
  readonly projectId: string;
  /** What happened, a stable machine-readable word. */
  readonly kind: string;
  /** A human-readable explanation, and what to do. */
  readonly message: string;
  /** An offset the notice refers to, or `null`. */
  readonly offset: string | null;
}
