/**
 * A frame from the hub that is not an event of the contract (a field is missing or of the wrong
 * kind). An unknown `type` is not such an error. The stream stops with this error rather than
 * skip the frame, since skipping would lose an event silently.
 */
export class EventDecodeError extends Error {
  /** The frame as received. */
  readonly frame: unknown;

  /** @param message - what is wrong. @param frame - the offending frame. */
  constructor(message: string, frame: unknown) {
    super(message);
    this.name = "EventDecodeError";
    this.frame = frame;
  }
}
