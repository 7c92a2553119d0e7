// The React entry point, `@eventhub/client/react`: kept apart so that the main entry point
// never imports React (an optional peer dependency).
export { useEventStream } from "./useEventStream.js";
export type { UseEventStreamResult } from "./UseEventStreamResult.js";
export type { UseEventStreamSettings } from "./UseEventStreamSettings.js";
export { useLiveState } from "./useLiveState.js";
export type { UseLiveStateResult } from "./UseLiveStateResult.js";
export type { UseLiveStateSettings } from "./UseLiveStateSettings.js";
