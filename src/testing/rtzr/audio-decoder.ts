/**
 * Decodes the emulator's incoming binary frames to Int16 samples, reusing
 * one scratch buffer (no allocation per frame once it has grown).
 * @module
 * @internal
 */
import { decodeAlaw, decodeMulaw } from '../../audio/g711.js';
import type { RtzrWireEncoding } from './params.js';

/** Stateful frame decoder; LINEAR16 carries an odd trailing byte to the next frame. */
export class WireAudioDecoder {
  private scratch = new Int16Array(4096);
  /** Pending low byte of a LINEAR16 sample split across frames, or -1. */
  private carry = -1;

  constructor(private readonly encoding: RtzrWireEncoding) {}

  private ensure(samples: number): Int16Array {
    if (this.scratch.length < samples) this.scratch = new Int16Array(Math.max(samples, this.scratch.length * 2));
    return this.scratch;
  }

  /**
   * Decode one frame. The result is a view of an internal buffer, valid until
   * the next call.
   */
  decode(bytes: Uint8Array): Int16Array {
    if (this.encoding === 'MULAW') return decodeMulaw(bytes, this.ensure(bytes.length));
    if (this.encoding === 'ALAW') return decodeAlaw(bytes, this.ensure(bytes.length));
    const total = bytes.length + (this.carry >= 0 ? 1 : 0);
    const count = total >> 1;
    const out = this.ensure(count);
    let i = 0;
    let o = 0;
    if (this.carry >= 0 && bytes.length > 0) {
      out[o++] = ((this.carry | (bytes[0]! << 8)) << 16) >> 16;
      i = 1;
      this.carry = -1;
    }
    for (; i + 1 < bytes.length; i += 2) out[o++] = ((bytes[i]! | (bytes[i + 1]! << 8)) << 16) >> 16;
    if (i < bytes.length) this.carry = bytes[i]!;
    return out.subarray(0, o);
  }
}
