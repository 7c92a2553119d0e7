/** How {@link useEventStream} keeps and runs the stream. */
export interface UseEventStreamSettings {
  /** Whether the stream runs (default true). `false` pauses it; `true` again resumes after the last event received. */
  readonly enabled?: boolean;
  /** How many events to keep (default 500). */
  readonly capacity?: number;
  /** The shortest time between two re-renders caused by new events (default 100). */
  readonly renderIntervalInMilliseconds?: number;
}
