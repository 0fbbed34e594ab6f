/**
 * The stream's audio after its last committed final, in the caller's input
 * format, bounded by a window (`replayWindowMs`).
 *
 * Every byte written goes here first. A connection sends from it (so audio
 * written before the connection opened is simply "not sent yet"), and after a
 * reconnect or a fallback the new connection starts from its beginning: the
 * audio whose words are not final yet is replayed, nothing is lost. A final
 * commits the audio up to its end; audio older than the window is dropped
 * (and counted) even if uncommitted, so memory stays bounded.
 *
 * One contiguous ring, grown by doubling up to the window: a write is a copy,
 * with no allocation per frame, and memory follows the audio actually held.
 * Positions are byte offsets of the input stream (integers, no drift).
 * @module
 */

const INITIAL_BYTES = 16 * 1024;

/** @internal */
export class ReplayBuffer {
  private ring: Uint8Array;
  /** Stream position of the first byte kept. */
  private _start = 0;
  private _end = 0;
  /** Bytes dropped by the window before they were committed. */
  droppedBytes = 0;
  /** Most bytes kept (whole samples). */
  readonly windowBytes: number;

  /**
   * @param windowBytes - most bytes kept (`replayWindowMs` × bytes per ms, whole samples).
   * @param sampleBytes - bytes per sample, so cuts stay sample-aligned.
   */
  constructor(
    windowBytes: number,
    private readonly sampleBytes: number,
  ) {
    this.windowBytes = Math.max(sampleBytes, windowBytes - (windowBytes % sampleBytes));
    this.ring = new Uint8Array(Math.min(INITIAL_BYTES, this.windowBytes));
  }

  /** First byte position kept. */
  get start(): number {
    return this._start;
  }

  /** Position after the last byte written. */
  get end(): number {
    return this._end;
  }

  /** Bytes held. */
  get size(): number {
    return this._end - this._start;
  }

  /** Append a copy of `bytes` (the caller may reuse its buffer). */
  append(bytes: Uint8Array): void {
    const n = bytes.byteLength;
    if (n === 0) return;
    if (n >= this.windowBytes) {
      // Larger than the whole window: keep its tail only.
      const keep = bytes.subarray(n - this.windowBytes);
      this.droppedBytes += this.size + (n - this.windowBytes);
      this._start = this._end + n - this.windowBytes;
      this._end += n;
      if (this.ring.length < this.windowBytes) this.ring = keep.slice();
      else this.ring.set(keep, 0);
      this.rebase(this._start);
      return;
    }
    if (this.size + n > this.ring.length && this.ring.length < this.windowBytes) this.grow(this.size + n);
    if (this.size + n > this.ring.length) {
      const cut = this._end + n - this.ring.length;
      this.droppedBytes += cut - this._start;
      this._start = cut;
    }
    this.copyIn(bytes);
    this._end += n;
  }

  /** Everything before `position` is settled (a final covered it): forget it. */
  commit(position: number): void {
    const p = Math.min(this._end, position - (position % this.sampleBytes));
    if (p > this._start) this._start = p;
  }

  /**
   * Bytes from `from` (clamped to what is kept) up to `to` (default: the end), as views of the
   * ring (at most two), valid until the next `append()`.
   * @returns the views and the position actually read from.
   */
  read(from: number, to = this._end): { from: number; chunks: Uint8Array[] } {
    const begin = Math.max(from, this._start);
    const stop = Math.min(to, this._end);
    if (stop <= begin) return { from: begin, chunks: [] };
    const cap = this.ring.length;
    const a = begin % cap;
    const len = stop - begin;
    if (a + len <= cap) return { from: begin, chunks: [this.ring.subarray(a, a + len)] };
    return { from: begin, chunks: [this.ring.subarray(a, cap), this.ring.subarray(0, len - (cap - a))] };
  }

  /** Drop everything (the stream closed) and release the memory. */
  clear(): void {
    this._start = this._end;
    this.ring = new Uint8Array(0);
  }

  private copyIn(bytes: Uint8Array): void {
    const cap = this.ring.length;
    const at = this._end % cap;
    const first = Math.min(bytes.byteLength, cap - at);
    this.ring.set(bytes.subarray(0, first), at);
    if (first < bytes.byteLength) this.ring.set(bytes.subarray(first), 0);
  }

  /** Re-lay the ring so that stream position p sits at index p % capacity (after a whole-window write). */
  private rebase(start: number): void {
    const cap = this.ring.length;
    const tmp = this.ring.slice(0, this.size);
    for (let i = 0; i < tmp.length; i++) this.ring[(start + i) % cap] = tmp[i]!;
  }

  private grow(needed: number): void {
    let cap = this.ring.length || INITIAL_BYTES;
    while (cap < needed) cap *= 2;
    cap = Math.min(cap, this.windowBytes);
    const next = new Uint8Array(cap);
    const { chunks } = this.read(this._start);
    let at = this._start % cap;
    for (const c of chunks) {
      const first = Math.min(c.byteLength, cap - at);
      next.set(c.subarray(0, first), at);
      if (first < c.byteLength) next.set(c.subarray(first), 0);
      at = (at + c.byteLength) % cap;
    }
    this.ring = next;
  }
}
