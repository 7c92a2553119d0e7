// @eventhub/client: a typed client for the EventHub change stream, over SignalR or SSE.
export { EventStream } from "./EventStream.js";
export type { EventStreamOptions } from "./EventStreamOptions.js";
export type { StreamObserver } from "./StreamObserver.js";
export type { StreamReset } from "./StreamReset.js";
export { isStreamReset, isChangeEvent, type StreamItem } from "./StreamItem.js";
export { EventStreamError } from "./EventStreamError.js";
export type { RetryMode } from "./RetryMode.js";
export type { ConnectionState } from "./ConnectionState.js";
export type { ConnectionSnapshot } from "./ConnectionSnapshot.js";
export { ConnectionStateStore } from "./ConnectionStateStore.js";
export { RecentEvents } from "./RecentEvents.js";
export type { ProjectNotice } from "./ProjectNotice.js";
export type { StreamRequest } from "./StreamRequest.js";
export { DEFAULT_RETRY_DELAYS_IN_MILLISECONDS } from "./RetryDelays.js";

export { KNOWN_EVENT_TYPES, type KnownEventType } from "./events/KnownEventType.js";
export type { ChangeEventBase } from "./events/ChangeEventBase.js";
export type { EventHubEvent } from "./events/EventHubEvent.js";
export type { KnownEvent } from "./events/KnownEvent.js";
export type { UnknownEvent } from "./events/UnknownEvent.js";
export type { EventOfType } from "./events/EventOfType.js";
export type { EventFamily } from "./events/EventFamily.js";
export type { SessionCreatedEvent } from "./events/SessionCreatedEvent.js";
export type { SessionUpdatedEvent } from "./events/SessionUpdatedEvent.js";
export type { PrCreatedEvent } from "./events/PrCreatedEvent.js";
export type { PrUpdatedEvent } from "./events/PrUpdatedEvent.js";
export type { PrSessionChangedEvent } from "./events/PrSessionChangedEvent.js";
export type { PrCheckRecordedEvent } from "./events/PrCheckRecordedEvent.js";
export type { PrReviewThreadAddedEvent } from "./events/PrReviewThreadAddedEvent.js";
export type { PrReviewThreadResolvedEvent } from "./events/PrReviewThreadResolvedEvent.js";
export type { SessionPayload, SessionCreatedPayload, SessionUpdatedPayload } from "./events/SessionPayload.js";
export type { EventPayloads } from "./events/eventTypes.generated.js";
export type { PrPayload } from "./events/PrPayload.js";
export type { PrSessionChangedPayload } from "./events/PrSessionChangedPayload.js";
export type { PrCheckPayload } from "./events/PrCheckPayload.js";
export type { PrReviewThreadAddedPayload } from "./events/PrReviewThreadAddedPayload.js";
export type { PrReviewThreadResolvedPayload } from "./events/PrReviewThreadResolvedPayload.js";
export type { SessionActivity, PrState, CiState, ReviewDecision, Mergeability, CheckStatus } from "./events/PayloadValues.js";
export {
  isKnownEvent, isUnknownEvent, isKnownEventType, isEventType, isSessionEvent, isPrEvent, isCheckEvent,
  isReviewThreadEvent, eventFamilyOf,
} from "./events/guards.js";
export { decodeEvent } from "./events/decodeEvent.js";
export { EventDecodeError } from "./events/EventDecodeError.js";

export { listProjects, PROJECTS_PATH, type ListProjectsOptions } from "./projects/listProjects.js";
export type { ProjectInfo } from "./projects/ProjectInfo.js";
export { LiveStateStore } from "./state/LiveStateStore.js";
export type { LiveStateOptions } from "./state/LiveStateOptions.js";
export type { LiveStateSnapshot } from "./state/LiveStateSnapshot.js";
export type { LiveStateStatus } from "./state/LiveStateStatus.js";
export type { LiveEntity } from "./state/LiveEntity.js";
export type { EntityKeyDefinition } from "./state/EntityKeyDefinition.js";
export type { SessionEntityEvent, PrEntityEvent, CheckEntityEvent, ThreadEntityEvent } from "./state/EntityEvents.js";
export { liveEntityId } from "./state/liveEntityId.js";
