/**
 * Not a change of the log but a signal in the stream: the hub cannot continue from the stream's
 * offset without a gap, because the offset belongs to another log (`offset_from_another_log`:
 * another database, or the schema was re-created) or retention pruned events after it
 * (`offset_pruned`), or it is in a format the log no longer issues (`offset_format_changed`). Whatever the application built from earlier events may be stale:
 * **refetch state, then continue**. The stream continues by itself right after this item, from
 * {@link StreamReset.offset}; it never skips past a reset quietly and never stops on one.
 *
 * It arrives in order among the events (`for await`, `subscribe`); tell it apart with
 * {@link isStreamReset}. The last one is also in the connection state (`lastReset`).
 */
export interface StreamReset {
  /** Discriminates a reset from an event (events have no `kind`). */
  readonly kind: "reset";
  /** The hub's reason: `offset_from_another_log`, `offset_pruned` or `offset_format_changed` (others may come). */
  readonly reason: string;
  /** The hub's explanation, for a log or a person. */
  readonly message: string;
  /** The offset the stream continues after (the hub's head when it reset the stream); store it as your offset. */
  readonly offset: string;
  /** The offset the hub could not continue from. */
  readonly previousOffset: string | null;
  /** The projects whose state to refetch: the stream's projects, or empty for every project. */
  readonly projects: readonly string[];
  /** When the client received it. */
  readonly receivedAt: Date;
}
