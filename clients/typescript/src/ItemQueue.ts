/**
 * A first-in first-out queue whose take is O(1) at any length. `Array.prototype.shift` moves every
 * element once the array's storage is large (V8 cannot trim the front of a large object):
 * emptying an array of 200,000 decoded events by shift took 17-21 s on our 2-core machine, about
 * what a `for await` loop took to read a 200,000-event backlog (bench/results/2026-12-06-ts-slow-consumer.md).
 * @internal
 */
export class ItemQueue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item; the queue must not be empty. */
  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it go
    this.head++;
    // Drop the taken front once it is half the storage: each item is copied at most once more.
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
