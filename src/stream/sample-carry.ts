/**
 * Partial samples carried from one `write()` to the next.
 *
 * A raw PCM byte stream (a TCP socket, a pipe, a child process's stdout)
 * splits chunks anywhere, also inside a sample: an odd-length LINEAR16 chunk,
 * a float32 chunk that is not a multiple of 4 bytes. Like Node's
 * `StringDecoder` with a character split across chunks, the bytes of an
 * incomplete sample are held back and completed by the next chunk; only whole
 * samples go on. What is still held when the stream ends is dropped (and
 * counted by the caller).
 * @module
 */

const EMPTY = new Uint8Array(0);

/** @internal */
export class SampleCarry {
  private readonly held: Uint8Array;
  private count = 0;

  /** @param sampleBytes - bytes per sample of the input encoding (1, 2 or 4). */
  constructor(private readonly sampleBytes: number) {
    this.held = new Uint8Array(Math.max(0, sampleBytes - 1));
  }

  /** Bytes of an incomplete sample held back, 0 to `sampleBytes − 1`. */
  get pending(): number {
    return this.count;
  }

  /**
   * The whole samples of what was held plus `bytes`; the bytes of a new incomplete sample at the
   * end are held back. Returns `bytes` itself (or a view of it) when nothing was held, a new array
   * otherwise. Never keeps a reference to `bytes`.
   */
  push(bytes: Uint8Array): Uint8Array {
    const sb = this.sampleBytes;
    const n = bytes.byteLength;
    if (sb === 1 || n === 0) return bytes;
    if (this.count === 0) {
      const rest = n % sb;
      if (rest === 0) return bytes;
      this.held.set(bytes.subarray(n - rest), 0);
      this.count = rest;
      return bytes.subarray(0, n - rest);
    }
    const total = this.count + n;
    if (total < sb) {
      this.held.set(bytes, this.count);
      this.count = total;
      return EMPTY;
    }
    const whole = total - (total % sb);
    const out = new Uint8Array(whole);
    out.set(this.held.subarray(0, this.count), 0);
    const taken = whole - this.count;
    out.set(bytes.subarray(0, taken), this.count);
    this.held.set(bytes.subarray(taken), 0);
    this.count = n - taken;
    return out;
  }

  /** Forget the incomplete sample (the stream ended). @returns how many bytes were dropped. */
  drop(): number {
    const n = this.count;
    this.count = 0;
    return n;
  }
}
