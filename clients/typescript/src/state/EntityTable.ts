// Why publishing copies only the kinds that changed: a snapshot must be immutable (React compares
// it by reference), yet copying every map on every event would make a catch-up of n events cost
// n². Events go into mutable maps; `publish` copies just the kinds touched since the last one.
import type { LiveEntity } from "./LiveEntity.js";

const EMPTY: ReadonlyMap<string, LiveEntity> = new Map();

/** The entities of a live state by kind, then by id, with immutable published copies. @internal */
export class EntityTable {
  private readonly live = new Map<string, Map<string, LiveEntity>>();
  private published: ReadonlyMap<string, ReadonlyMap<string, LiveEntity>> = new Map();
  private readonly dirty = new Set<string>();

  /** An empty map, for kinds with no entity. */
  static readonly empty = EMPTY;

  /** Whether anything changed since the last {@link publish}. */
  get changed(): boolean {
    return this.dirty.size > 0;
  }

  /** Replaces every entity (a newly loaded state). */
  replace(entities: Iterable<LiveEntity>): void {
    for (const kind of this.live.keys()) this.dirty.add(kind);
    this.live.clear();
    for (const e of entities) this.put(e);
  }

  /**
   * Sets an entity unless it holds a newer event already, and says whether it did. An entity's
   * version is its event's `seq`: one entity's events come from writes to one source row, and a
   * write waits for the commit of the one before it, so for one entity `seq` order is commit
   * order. The stream's order is not (inside a tick, two transactions go by transaction id, and
   * the older id may have committed second); the hub's state follows the same rule.
   */
  put(entity: LiveEntity): boolean {
    let kind = this.live.get(entity.kind);
    if (kind === undefined) this.live.set(entity.kind, kind = new Map());
    const held = kind.get(entity.id);
    if (held !== undefined && held.event.seq >= entity.event.seq) return false;
    kind.set(entity.id, Object.freeze(entity));
    this.dirty.add(entity.kind);
    return true;
  }

  /** The current (unpublished) entity, if any. */
  get(kind: string, id: string): LiveEntity | undefined {
    return this.live.get(kind)?.get(id);
  }

  /** Immutable maps of every kind as of now; the same object (and per kind, the same map) when nothing changed. */
  publish(): ReadonlyMap<string, ReadonlyMap<string, LiveEntity>> {
    if (this.dirty.size === 0) return this.published;
    const next = new Map(this.published);
    for (const kind of this.dirty) {
      const entities = this.live.get(kind);
      if (entities === undefined || entities.size === 0) next.delete(kind);
      else next.set(kind, new Map(entities));
    }
    this.dirty.clear();
    this.published = next;
    return next;
  }
}
