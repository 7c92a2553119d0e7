// A Server-Sent Events parser that follows the WHATWG "interpret an event stream" rules, for
// the fetch-based reader (Node has no EventSource). Chunks may split anywhere, even between the
// \r and \n of one line ending, so the parser keeps an unfinished line and a pending \r.
import type { SseMessage } from "./SseMessage.js";

/** Callbacks of an {@link SseParser}. */
export interface SseParserHandlers {
  /** A complete message (a blank line ended it and it had data). */
  message(message: SseMessage): void;
  /** A `retry:` field with a valid number of milliseconds. */
  retry?(delayInMilliseconds: number): void;
  /** A comment line (`: text`), without the colon; the hub sends keep-alives this way. */
  comment?(text: string): void;
}

/**
 * Incremental Server-Sent Events parser: `push` text chunks as they arrive. It handles `\n`,
 * `\r\n` and `\r` line endings, a leading BOM, comments, multi-line `data`, `id` (ignored when it
 * contains NUL), `retry` (digits only), fields without a colon and one optional space after it.
 * An unfinished message at the end of the stream is dropped, as the spec requires.
 */
export class SseParser {
  private buffer = "";
  private started = false;
  private skipLeadingLf = false;
  private data = "";
  private hasData = false;
  private eventType = "";
  private lastEventId = "";

  /** @param handlers - called as messages, retry hints and comments are parsed. */
  constructor(private readonly handlers: SseParserHandlers) {}

  /** Feeds the next chunk of decoded text. */
  push(chunk: string): void {
    if (!this.started) {
      if (chunk.length === 0) return;
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    let text = this.buffer + chunk;
    this.buffer = "";
    let start = 0;
    if (this.skipLeadingLf) {
      if (text.length === 0) return;
      if (text[0] === "\n") start = 1;
      this.skipLeadingLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          this.skipLeadingLf = true; // the \n of a \r\n may come in the next chunk
        }
      }
      start = i + 1;
    }
    this.buffer = text.slice(start);
    text = "";
  }

  private line(line: string): void {
    if (line.length === 0) {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.handlers.comment?.(line.slice(1).replace(/^ /, ""));
      return;
    }
    const colon = line.indexOf(":");
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (field) {
      case "event":
        this.eventType = value;
        break;
      case "data":
        this.data = this.hasData ? `${this.data}\n${value}` : value;
        this.hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.handlers.retry?.(Number(value));
        break;
      default:
        break; // unknown fields are ignored
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      this.eventType = "";
      return;
    }
    const message: SseMessage = { type: this.eventType || "message", data: this.data, lastEventId: this.lastEventId };
    this.data = "";
    this.hasData = false;
    this.eventType = "";
    this.handlers.message(message);
  }
}
