import type { KnownEvent } from "./KnownEvent.js";
import type { KnownEventType } from "./KnownEventType.js";

/** The known event whose `type` is `T`, e.g. `EventOfType<"pr_updated">` is `PrUpdatedEvent`. */
export type EventOfType<T extends KnownEventType> = Extract<KnownEvent, { readonly type: T }>;
