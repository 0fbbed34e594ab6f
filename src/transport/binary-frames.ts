/**
 * Binary audio frames on a WebSocket: whole samples only (a partial sample is
 * carried to the next write) and no frame larger than the server accepts.
 * @module
 * @internal
 */
import type WebSocket from 'ws';

/** Keeps writes aligned to whole samples, carrying a partial sample to the next write. */
export class SampleAligner {
  private carry: Uint8Array | undefined;

  constructor(private readonly bytesPerSample: number) {}

  /** The whole samples of `carry + bytes` (possibly empty); the rest is kept. */
  align(bytes: Uint8Array): Uint8Array {
    let all = bytes;
    if (this.carry) {
      all = new Uint8Array(this.carry.length + bytes.length);
      all.set(this.carry);
      all.set(bytes, this.carry.length);
      this.carry = undefined;
    }
    const whole = all.length - (all.length % this.bytesPerSample);
    if (whole < all.length) this.carry = all.slice(whole);
    return all.subarray(0, whole);
  }

  /** Drop a carried partial sample (end of stream). */
  reset(): void {
    this.carry = undefined;
  }
}

/**
 * Send `bytes` as binary frames of at most `maxFrameBytes`; `onSent` runs when the last one has
 * been handed to the network.
 */
export function sendFrames(ws: WebSocket, bytes: Uint8Array, maxFrameBytes: number, onSent?: () => void): void {
  if (bytes.length === 0) {
    onSent?.();
    return;
  }
  for (let off = 0; off < bytes.length; off += maxFrameBytes) {
    const end = Math.min(off + maxFrameBytes, bytes.length);
    const last = end === bytes.length;
    ws.send(bytes.subarray(off, end), { binary: true }, last && onSent ? () => onSent() : undefined);
  }
}

/** Send `byteLength` zero bytes (silence in float32 or LINEAR16) as frames of at most `maxFrameBytes`. */
export function sendSilence(ws: WebSocket, byteLength: number, maxFrameBytes: number): void {
  if (byteLength <= 0) return;
  const zeros = new Uint8Array(Math.min(byteLength, maxFrameBytes));
  for (let left = byteLength; left > 0; left -= zeros.length) {
    ws.send(left >= zeros.length ? zeros : zeros.subarray(0, left), { binary: true });
  }
}
