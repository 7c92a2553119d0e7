/** One dispatched Server-Sent Events message. */
export interface SseMessage {
  /** The `event:` field, or `"message"` when there was none. */
  readonly type: string;
  /** The `data:` lines, joined with `\n`. */
  readonly data: string;
  /** The last `id:` seen so far in the stream (it carries over to later messages, as in the spec). */
  readonly lastEventId: string;
}
