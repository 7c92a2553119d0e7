/**
 * Delays before each reconnect attempt after a drop; the last one repeats for as long as the
 * stream keeps failing. The first is short so that a hub restart costs little; the count
 * resets on progress (an event, a reset, or a stream that ran 10 s), not when a connection opens.
 */
export const DEFAULT_RETRY_DELAYS_IN_MILLISECONDS: readonly number[] = [0, 500, 1_000, 2_000, 5_000, 10_000];
