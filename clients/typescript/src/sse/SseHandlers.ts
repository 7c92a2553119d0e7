import type { SseMessage } from "./SseMessage.js";

/** What the fetch-based reader reports while it reads one Server-Sent Events response. @internal */
export interface SseHandlers {
  /** A complete message (a blank line ended it and it had data). May throw: the read then fails with that error. */
  message(message: SseMessage): void;
  /** A `retry:` field with a valid number of milliseconds. */
  retry?(delayInMilliseconds: number): void;
  /** A comment line (`: text`), without the colon; the hub sends keep-alives this way. */
  comment?(text: string): void;
}
