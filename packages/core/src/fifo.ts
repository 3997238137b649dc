/**
 * A first-in first-out queue over one array that never shrinks: taking clears the slot, and an
 * emptied queue starts again at index 0. The endpoint's outbox and event queue fill and drain on
 * every datagram; `array.length = 0` there is a runtime call that also drops the backing store,
 * so the next push allocates it again (≈ 0.1 µs each time, several times per round trip).
 */
export class Fifo<T> {
  private readonly items: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;

  push(item: T): void {
    this.items[this.tail++] = item;
  }

  /** The oldest item, removed; undefined when empty. */
  shift(): T | undefined {
    if (this.head === this.tail) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.tail) this.head = this.tail = 0;
    return item;
  }

  get size(): number {
    return this.tail - this.head;
  }
}
