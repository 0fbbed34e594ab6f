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
 * Positions are byte offsets of the input stream (integers, no drift).
 * @module
 */

interface Piece {
  /** Stream byte position of `bytes[0]`. */
  at: number;
  bytes: Uint8Array;
}

/** @internal */
export class ReplayBuffer {
  private pieces: Piece[] = [];
  private head = 0;
  private _start = 0;
  private _end = 0;
  /** Bytes dropped by the window before they were committed. */
  droppedBytes = 0;
  private readonly windowBytes: number;

  /**
   * @param windowBytes - most bytes kept (`replayWindowMs` × bytes per ms, whole samples).
   * @param sampleBytes - bytes per sample, so cuts stay sample-aligned.
   */
  constructor(
    windowBytes: number,
    private readonly sampleBytes: number,
  ) {
    this.windowBytes = Math.max(sampleBytes, windowBytes - (windowBytes % sampleBytes));
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
    if (bytes.byteLength === 0) return;
    this.pieces.push({ at: this._end, bytes: bytes.slice() });
    this._end += bytes.byteLength;
    if (this.size > this.windowBytes) {
      const cut = this._end - this.windowBytes;
      this.droppedBytes += cut - this._start;
      this.trim(cut);
    }
  }

  /** Everything before `position` is settled (a final covered it): forget it. */
  commit(position: number): void {
    const p = Math.min(this._end, position - (position % this.sampleBytes));
    if (p > this._start) this.trim(p);
  }

  /**
   * Bytes from `from` (clamped to what is kept) up to `to` (default: the end), as views.
   * @returns the pieces and the position actually read from.
   */
  read(from: number, to = this._end): { from: number; chunks: Uint8Array[] } {
    const begin = Math.max(from, this._start);
    const chunks: Uint8Array[] = [];
    for (let i = this.head; i < this.pieces.length; i++) {
      const p = this.pieces[i]!;
      const pEnd = p.at + p.bytes.byteLength;
      if (pEnd <= begin) continue;
      if (p.at >= to) break;
      chunks.push(p.bytes.subarray(Math.max(0, begin - p.at), Math.min(p.bytes.byteLength, to - p.at)));
    }
    return { from: begin, chunks };
  }

  /** Drop everything (the stream closed). */
  clear(): void {
    this.pieces = [];
    this.head = 0;
    this._start = this._end;
  }

  private trim(position: number): void {
    this._start = position;
    while (this.head < this.pieces.length) {
      const p = this.pieces[this.head]!;
      if (p.at + p.bytes.byteLength <= position) {
        this.head++;
        continue;
      }
      if (p.at < position) {
        p.bytes = p.bytes.subarray(position - p.at);
        p.at = position;
      }
      break;
    }
    if (this.head > 64 && this.head * 2 > this.pieces.length) {
      this.pieces = this.pieces.slice(this.head);
      this.head = 0;
    }
  }
}
