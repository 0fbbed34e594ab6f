/**
 * Remembers when each position of the audio timeline was written, to measure
 * latency from "audio at X ms was written" to "its result arrived".
 * Bounded: a ring of the most recent writes.
 * @module
 */

/** @internal */
export class WriteClock {
  private readonly endMs: Float64Array;
  private readonly at: Float64Array;
  private head = 0;
  private size = 0;

  constructor(readonly capacity = 8192) {
    this.endMs = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
  }

  /** A write ending at stream position `endMs` happened at `atMs` (performance.now()). */
  record(endMs: number, atMs: number): void {
    const i = (this.head + this.size) % this.capacity;
    this.endMs[i] = endMs;
    this.at[i] = atMs;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
  }

  /**
   * When the audio at position `ms` was written: the first write ending at or after it (the last
   * write when `ms` lies beyond everything written); undefined before the first write.
   */
  writtenAt(ms: number): number | undefined {
    if (this.size === 0) return undefined;
    let lo = 0;
    let hi = this.size - 1;
    const last = (this.head + hi) % this.capacity;
    if (this.endMs[last]! < ms - 0.5) return this.at[last];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.endMs[(this.head + mid) % this.capacity]! + 0.5 >= ms) hi = mid;
      else lo = mid + 1;
    }
    return this.at[(this.head + lo) % this.capacity];
  }
}
