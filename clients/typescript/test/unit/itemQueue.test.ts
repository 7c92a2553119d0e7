import { describe, expect, it } from "vitest";
import { ItemQueue } from "../../src/ItemQueue.js";

describe("ItemQueue", () => {
  it("takes items in the order they were put, across any mix of puts and takes", () => {
    const queue = new ItemQueue<number>();
    const taken: number[] = [];
    let next = 0;
    // Grow to 50,000, drain to 10, grow again, drain to empty: the front is dropped along the way.
    for (const [puts, takes] of [[50_000, 49_990], [3, 5], [20_000, 20_008]] as const) {
      for (let i = 0; i < puts; i++) queue.push(next++);
      for (let i = 0; i < takes; i++) taken.push(queue.shift());
    }
    expect(queue.length).toBe(0);
    expect(taken).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it("counts what it holds, and clear empties it", () => {
    const queue = new ItemQueue<string>();
    queue.push("a"); queue.push("b"); queue.push("c");
    expect(queue.shift()).toBe("a");
    expect(queue.length).toBe(2);
    queue.clear();
    expect(queue.length).toBe(0);
    queue.push("d");
    expect(queue.shift()).toBe("d");
  });
});
