/**
 * A min-heap of (deadline, item) so an endpoint with many sessions finds the next one due in
 * O(log n) instead of asking every session. Entries are never updated in place: a new deadline
 * is pushed and stale entries are skipped when they surface (the item's current deadline is
 * asked for then).
 */
export class DeadlineQueue<T> {
  private readonly heap: { at: number; item: T }[] = [];

  constructor(private readonly currentDeadline: (item: T) => number | undefined) {}

  push(item: T, at: number): void {
    const heap = this.heap;
    heap.push({ at, item });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= at) break;
      [heap[i], heap[parent]] = [heap[parent] as { at: number; item: T }, heap[i] as { at: number; item: T }];
      i = parent;
    }
  }

  /** The earliest live deadline, discarding stale entries on the way. */
  peek(): number | undefined {
    for (let top = this.heap[0]; top; top = this.heap[0]) {
      if (this.currentDeadline(top.item) === top.at) return top.at;
      this.pop();
    }
    return undefined;
  }

  /** Removes and returns every item whose live deadline is at or before `now`. */
  takeDue(now: number): T[] {
    const due: T[] = [];
    for (let at = this.peek(); at !== undefined && at <= now; at = this.peek()) {
      due.push((this.pop() as { item: T }).item);
    }
    return due;
  }

  get size(): number {
    return this.heap.length;
  }

  private pop(): { at: number; item: T } | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || !last) return top;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && (heap[left] as { at: number }).at < (heap[smallest] as { at: number }).at)
        smallest = left;
      if (right < heap.length && (heap[right] as { at: number }).at < (heap[smallest] as { at: number }).at)
        smallest = right;
      if (smallest === i) break;
      [heap[i], heap[smallest]] = [
        heap[smallest] as { at: number; item: T },
        heap[i] as { at: number; item: T },
      ];
      i = smallest;
    }
    return top;
  }
}
