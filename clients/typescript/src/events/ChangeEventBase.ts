/**
 * The fields every event carries, whatever its type: the wire shape of the CDC contract plus
 * the `offset` to resume after it.
 *
 * @typeParam TType - the `type` string (a literal for known events).
 * @typeParam TPayload - the shape of `payload`.
 */
export interface ChangeEventBase<TType extends string, TPayload> {
  /** The log's `seq`: an idempotency key (the client drops repeats). Not the delivery order. */
  readonly seq: number;
  /** The project the event belongs to. */
  readonly projectId: string;
  /** The session the event belongs to; `null` for project-level events. */
  readonly sessionId: string | null;
  /** The event type. */
  readonly type: TType;
  /** The payload object the database trigger built. */
  readonly payload: TPayload;
  /** When the change was made. */
  readonly createdAt: Date;
  /** Opaque position to resume after this event: store it and send it back, never parse it. */
  readonly offset: string;
}
