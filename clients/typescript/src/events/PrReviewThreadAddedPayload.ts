/** Payload of `pr_review_thread_added`. */
export interface PrReviewThreadAddedPayload {
  /** The URL of the PR the thread is on. */
  readonly pr: string;
  /** The thread's id. */
  readonly thread: string;
  /** The file the thread is on, if any. */
  readonly path: string | null;
  /** The line the thread is on, if any. */
  readonly line: number | null;
  /** Whether the thread is resolved. */
  readonly resolved: boolean;
  /** Whether a bot opened the thread. */
  readonly isBot: boolean;
}
