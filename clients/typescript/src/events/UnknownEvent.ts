import type { ChangeEventBase } from "./ChangeEventBase.js";

/**
 * An event whose type this client does not know (for example a future `tracker_*` family).
 * It is delivered untouched, with its payload as a plain object; it never makes the stream fail.
 */
export type UnknownEvent = ChangeEventBase<string, Readonly<Record<string, unknown>>>;
