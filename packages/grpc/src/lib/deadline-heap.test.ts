import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeadlineHeap, type DeadlineEntry } from "./deadline-heap.js";

interface Item extends DeadlineEntry {
  readonly id: number;
}

describe("DeadlineHeap", () => {
  it("always offers the earliest deadline, whatever was pushed and removed", () => {
    const step = fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 50 }) }), fc.record({ remove: fc.nat() }));
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const heap = new DeadlineHeap<Item>();
        const present: Item[] = [];
        let nextId = 0;
        for (const action of steps) {
          if ("push" in action) {
            const item: Item = { id: nextId++, dueMs: action.push, heapIndex: -1 };
            heap.push(item);
            present.push(item);
          } else if (present.length > 0) {
            const [item] = present.splice(action.remove % present.length, 1);
            heap.remove(item as Item);
            expect((item as Item).heapIndex).toBe(-1);
          }
          expect(heap.size).toBe(present.length);
          const earliest = Math.min(...present.map((item) => item.dueMs));
          expect(heap.peek()?.dueMs ?? Infinity).toBe(earliest);
        }
        // Draining from the top yields every entry left, in deadline order.
        const drained: number[] = [];
        for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
          drained.push(top.dueMs);
          heap.remove(top);
        }
        expect(drained).toEqual(present.map((item) => item.dueMs).sort((a, b) => a - b));
      }),
    );
  });

  it("ignores removing an entry that is not in it, or was removed already", () => {
    const heap = new DeadlineHeap<Item>();
    const kept: Item = { id: 1, dueMs: 5, heapIndex: -1 };
    const gone: Item = { id: 2, dueMs: 1, heapIndex: -1 };
    heap.push(kept);
    heap.push(gone);
    heap.remove(gone);
    heap.remove(gone);
    heap.remove({ id: 3, dueMs: 0, heapIndex: 0 });

    expect(heap.size).toBe(1);
    expect(heap.peek()).toBe(kept);
  });
});
