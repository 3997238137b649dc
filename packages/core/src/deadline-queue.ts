/**
 * A min-heap of (deadline, item) so an endpoint with many sessions finds the next one due in
 * O(log n) instead of asking every session. Entries are never updated in place: a new deadline
 * is pushed and stale entries are skipped when they surface (the item's current deadline is
 * asked for then). Deadlines and items sit in two parallel arrays, so a push allocates nothing
 * once the arrays have grown (an endpoint pushes whenever a session's next deadline moves).
 */
export class DeadlineQueue<T> {
  private readonly ats: number[] = [];
  private readonly items: T[] = [];

  constructor(private readonly currentDeadline: (item: T) => number | undefined) {}

  push(item: T, at: number): void {
    const { ats, items } = this;
    let i = ats.length;
    ats.push(at);
    items.push(item);
    // Sift up: move parents down until the new entry's place is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const parentAt = ats[parent] as number;
      if (parentAt <= at) break;
      ats[i] = parentAt;
      items[i] = items[parent] as T;
      i = parent;
    }
    ats[i] = at;
    items[i] = item;
  }

  /** The earliest live deadline, discarding stale entries on the way. */
  peek(): number | undefined {
    while (this.ats.length > 0) {
      const at = this.ats[0] as number;
      if (this.currentDeadline(this.items[0] as T) === at) return at;
      this.pop();
    }
    return undefined;
  }

  /** Removes and returns every item whose live deadline is at or before `now`, earliest first. */
  takeDue(now: number): T[] {
    const due: T[] = [];
    for (let at = this.peek(); at !== undefined && at <= now; at = this.peek()) {
      due.push(this.items[0] as T);
      this.pop();
    }
    return due;
  }

  /** Entries held, stale ones included. */
  get size(): number {
    return this.ats.length;
  }

  /** Removes the top entry. */
  private pop(): void {
    const { ats, items } = this;
    const lastAt = ats.pop() as number;
    const lastItem = items.pop() as T;
    const n = ats.length;
    if (n === 0) return;
    // Sift the last entry down from the root.
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && (ats[right] as number) < (ats[left] as number) ? right : left;
      if ((ats[child] as number) >= lastAt) break;
      ats[i] = ats[child] as number;
      items[i] = items[child] as T;
      i = child;
    }
    ats[i] = lastAt;
    items[i] = lastItem;
  }
}
