/** Payload of `pr_review_thread_resolved`: a thread's resolved flag flipped. */
export interface PrReviewThreadResolvedPayload {
  /** The URL of the PR the thread is on. */
  readonly pr: string;
  /** The thread's id. */
  readonly thread: string;
  /** The file the thread is on, if any. */
  readonly path: string | null;
  /** The line the thread is on, if any. */
  readonly line: number | null;
  /** The new value of the flag (it may flip back to false). */
  readonly resolved: boolean;
}
