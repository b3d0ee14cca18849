/**
 * A binary min-heap of entries by `dueMs` that knows each entry's position, so an entry can leave
 * from the middle in O(log n). Open streams mostly end before their token expires: removal has to
 * be cheap and exact, or ended streams would pile up in the heap until their deadlines came.
 */
export interface DeadlineEntry {
  readonly dueMs: number;
  /** Maintained by the heap: the entry's index, or -1 when it is not in a heap. */
  heapIndex: number;
}

export class DeadlineHeap<T extends DeadlineEntry> {
  readonly #entries: T[] = [];

  get size(): number {
    return this.#entries.length;
  }

  peek(): T | undefined {
    return this.#entries[0];
  }

  push(entry: T): void {
    entry.heapIndex = this.#entries.length;
    this.#entries.push(entry);
    this.#up(entry.heapIndex);
  }

  /** Takes `entry` out; a no-op for an entry that is not in this heap. */
  remove(entry: T): void {
    const index = entry.heapIndex;
    if (this.#entries[index] !== entry) return;
    entry.heapIndex = -1;
    const last = this.#entries.pop() as T;
    if (last === entry) return;
    this.#entries[index] = last;
    last.heapIndex = index;
    this.#down(index);
    this.#up(last.heapIndex);
  }

  #up(start: number): void {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#dueAt(parent) <= this.#dueAt(index)) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #down(start: number): void {
    let index = start;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.#entries.length && this.#dueAt(left) < this.#dueAt(smallest)) smallest = left;
      if (right < this.#entries.length && this.#dueAt(right) < this.#dueAt(smallest)) smallest = right;
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #dueAt(index: number): number {
    return (this.#entries[index] as T).dueMs;
  }

  #swap(a: number, b: number): void {
    const first = this.#entries[a] as T;
    const second = this.#entries[b] as T;
    this.#entries[a] = second;
    this.#entries[b] = first;
    second.heapIndex = a;
    first.heapIndex = b;
  }
}
