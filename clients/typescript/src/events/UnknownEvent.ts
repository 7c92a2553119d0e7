import type { ChangeEventBase } from "./ChangeEventBase.js";

/**
 * An event whose type this client does not know (for example a future `tracker_*` family).
 * It is delivered untouched, with its payload as a plain object (a payload that is not an object,
 * which the contract rules out, comes as it was sent); it never makes the stream fail.
 */
export type UnknownEvent = ChangeEventBase<string, Readonly<Record<string, unknown>>>;
