/**
 * A set of numbers held as sorted, disjoint, non-adjacent half-open ranges [start, end): the
 * bytes of a stream that arrived (or that the peer acknowledged) beyond the point where
 * everything did. Two parallel arrays, binary search; in the common case (the next bytes in
 * order) adding extends the last range in O(1). The caller bounds the number of ranges (a peer
 * could otherwise make one per byte).
 */
export class RangeSet {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  get count(): number {
    return this.starts.length;
  }

  /** The lowest number in the set (Infinity when empty), and the end of its range. */
  get first(): number {
    return this.starts.length > 0 ? (this.starts[0] as number) : Number.POSITIVE_INFINITY;
  }
  get firstEnd(): number {
    return this.ends.length > 0 ? (this.ends[0] as number) : Number.POSITIVE_INFINITY;
  }

  /** Forgets everything. */
  clear(): void {
    this.starts.length = 0;
    this.ends.length = 0;
  }

  /** The end of the range that starts at or before `from` and covers it, else `from` itself. */
  contiguousEnd(from: number): number {
    const i = this.indexCovering(from);
    return i < 0 ? from : (this.ends[i] as number);
  }

  /** Whether every number in [start, end) is in the set. */
  covers(start: number, end: number): boolean {
    if (end <= start) return true;
    const i = this.indexCovering(start);
    return i >= 0 && (this.ends[i] as number) >= end;
  }

  /**
   * Whether adding [start, end) would need a range of its own (it touches none held): the caller
   * refuses that beyond its bound.
   */
  wouldAddRange(start: number, end: number): boolean {
    const i = this.lastStartingAtOrBefore(end);
    return i < 0 || (this.ends[i] as number) < start;
  }

  /** Adds [start, end), merging with every range it touches. */
  add(start: number, end: number): void {
    if (end <= start) return;
    const { starts, ends } = this;
    const last = starts.length - 1;
    // In order: extends the last range or follows it.
    if (last >= 0 && start >= (starts[last] as number)) {
      if (start <= (ends[last] as number)) {
        if (end > (ends[last] as number)) ends[last] = end;
        return;
      }
      starts.push(start);
      ends.push(end);
      return;
    }
    // First range touching [start, end): the first whose end ≥ start.
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid] as number) < start) lo = mid + 1;
      else hi = mid;
    }
    let j = lo;
    let newStart = start;
    let newEnd = end;
    while (j < starts.length && (starts[j] as number) <= end) {
      newStart = Math.min(newStart, starts[j] as number);
      newEnd = Math.max(newEnd, ends[j] as number);
      j++;
    }
    starts.splice(lo, j - lo, newStart);
    ends.splice(lo, j - lo, newEnd);
  }

  /** Forgets every number below `offset`. */
  removeBelow(offset: number): void {
    const { starts, ends } = this;
    let drop = 0;
    while (drop < starts.length && (ends[drop] as number) <= offset) drop++;
    // shift() for the usual one or two: splice would make an array of what it removes.
    if (drop > 2) {
      starts.splice(0, drop);
      ends.splice(0, drop);
    } else
      for (; drop > 0; drop--) {
        starts.shift();
        ends.shift();
      }
    if (starts.length > 0 && (starts[0] as number) < offset) starts[0] = offset;
  }

  /** The first number at or after `from` that is not in the set. */
  nextMissing(from: number): number {
    return this.contiguousEnd(from);
  }

  /** The first number at or after `from` that is in the set, or Infinity. */
  nextPresent(from: number): number {
    const i = this.indexCovering(from);
    if (i >= 0) return from;
    const j = this.lastStartingAtOrBefore(from) + 1;
    return j < this.starts.length ? (this.starts[j] as number) : Number.POSITIVE_INFINITY;
  }

  /** The index of the range covering `n`, or -1. */
  private indexCovering(n: number): number {
    const i = this.lastStartingAtOrBefore(n);
    return i >= 0 && (this.ends[i] as number) > n ? i : -1;
  }

  /** The index of the last range starting at or before `n`, or -1. */
  private lastStartingAtOrBefore(n: number): number {
    const { starts } = this;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((starts[mid] as number) <= n) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }
}
