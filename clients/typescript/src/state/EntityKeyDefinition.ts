/** Which entity an event type describes, as the hub's state answer says (`entityKeys`). */
export interface EntityKeyDefinition {
  /** The entity's kind. */
  readonly kind: string;
  /** The payload fields whose values, in this order, key the entity. */
  readonly fields: readonly string[];
}
