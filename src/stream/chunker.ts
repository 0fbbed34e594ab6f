/**
 * Re-chunks a byte stream into fixed-size frames (e.g. 100 ms of audio).
 * Frames come from shared slabs (`audio/slab.ts`): no backing-store
 * allocation per frame, and a frame is never overwritten once emitted.
 * @module
 */
import { allocUint8 } from '../audio/slab.js';

/** @internal */
export class FrameChunker {
  private buf: Uint8Array;
  private fill = 0;

  constructor(readonly frameBytes: number) {
    this.buf = allocUint8(frameBytes);
  }

  /** Bytes held, waiting for a full frame. */
  get pending(): number {
    return this.fill;
  }

  /** Add bytes; calls `emit` for every completed frame (a fresh array the callee may keep). */
  push(bytes: Uint8Array, emit: (frame: Uint8Array) => void): void {
    let off = 0;
    while (off < bytes.length) {
      const n = Math.min(this.frameBytes - this.fill, bytes.length - off);
      this.buf.set(bytes.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === this.frameBytes) {
        emit(this.buf);
        this.buf = allocUint8(this.frameBytes);
        this.fill = 0;
      }
    }
  }

  /** Take the partial frame, if any. */
  flush(): Uint8Array | undefined {
    if (this.fill === 0) return undefined;
    const out = this.buf.slice(0, this.fill);
    this.fill = 0;
    return out;
  }
}
