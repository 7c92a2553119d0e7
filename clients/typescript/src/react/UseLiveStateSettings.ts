import type { LiveStateOptions } from "../state/LiveStateOptions.js";

/** What {@link useLiveState} keeps current: a {@link LiveStateStore}'s options, and whether it runs. */
export interface UseLiveStateSettings extends LiveStateOptions {
  /** Whether the store runs (default true). `false` pauses it; `true` again resumes after its offset, without reloading. */
  readonly enabled?: boolean;
}
