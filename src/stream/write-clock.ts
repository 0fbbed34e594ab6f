/**
 * Remembers when each position of the audio timeline was written, to measure
 * latency from "audio at X ms was written" to "its result arrived".
 * Bounded: a ring of the most recent writes that starts small and grows (by
 * doubling) up to `capacity` entries, so a short call holds a few KB rather
 * than the whole ring (2 × 8 B per entry).
 * @module
 */

const INITIAL_ENTRIES = 256;

/** @internal */
export class WriteClock {
  private endMs: Float64Array;
  private at: Float64Array;
  private head = 0;
  private size = 0;

  /** @param capacity - most writes remembered (the oldest are forgotten first). */
  constructor(readonly capacity = 8192) {
    const initial = Math.min(capacity, INITIAL_ENTRIES);
    this.endMs = new Float64Array(initial);
    this.at = new Float64Array(initial);
  }

  /** A write ending at stream position `endMs` happened at `atMs` (performance.now()). */
  record(endMs: number, atMs: number): void {
    if (this.size === this.endMs.length && this.size < this.capacity) this.grow();
    const cap = this.endMs.length;
    const i = (this.head + this.size) % cap;
    this.endMs[i] = endMs;
    this.at[i] = atMs;
    if (this.size < cap) this.size++;
    else this.head = (this.head + 1) % cap;
  }

  /**
   * When the audio at position `ms` was written: the first write ending at or after it (the last
   * write when `ms` lies beyond everything written); undefined before the first write.
   */
  writtenAt(ms: number): number | undefined {
    if (this.size === 0) return undefined;
    const cap = this.endMs.length;
    let lo = 0;
    let hi = this.size - 1;
    const last = (this.head + hi) % cap;
    if (this.endMs[last]! < ms - 0.5) return this.at[last];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.endMs[(this.head + mid) % cap]! + 0.5 >= ms) hi = mid;
      else lo = mid + 1;
    }
    return this.at[(this.head + lo) % cap];
  }

  /** Double the ring (up to `capacity`), oldest entry first. */
  private grow(): void {
    const cap = this.endMs.length;
    const next = Math.min(this.capacity, cap * 2);
    const endMs = new Float64Array(next);
    const at = new Float64Array(next);
    for (let k = 0; k < this.size; k++) {
      const j = (this.head + k) % cap;
      endMs[k] = this.endMs[j]!;
      at[k] = this.at[j]!;
    }
    this.endMs = endMs;
    this.at = at;
    this.head = 0;
  }
}
