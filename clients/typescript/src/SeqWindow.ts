/**
 * Remembers the last `capacity` event `seq` values, to drop an event delivered twice (the
 * contract's idempotency key). The hub already sends each event once after a given offset and
 * the stream resumes from the last offset it delivered, so this is a guard, not the mechanism.
 * @internal
 */
export class SeqWindow {
  private readonly seen = new Set<number>();
  private readonly ring: number[];
  private next = 0;

  /** @param capacity - how many values to remember (at least 1). */
  constructor(private readonly capacity: number) {
    this.ring = new Array<number>(Math.max(1, capacity));
  }

  /** Forgets every value (after a reset, the log may be another one, with its own `seq` values). */
  clear(): void {
    this.seen.clear();
    this.next = 0;
  }

  /** Records `seq`; returns false if it was already among the remembered values. */
  add(seq: number): boolean {
    if (this.seen.has(seq)) return false;
    if (this.seen.size >= this.ring.length) this.seen.delete(this.ring[this.next]!);
    this.ring[this.next] = seq;
    this.next = (this.next + 1) % this.ring.length;
    this.seen.add(seq);
    return true;
  }
}
