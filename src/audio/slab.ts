/**
 * Small typed arrays carved out of shared 64 KB slabs, as Node's
 * `Buffer.allocUnsafe` pool does for small Buffers: creating a view is far
 * cheaper than allocating a backing store per 20 ms frame (the bench measured
 * the per-frame `new Int16Array(160)` as most of the mu-law decode cost).
 *
 * Regions are never reused, so an array handed out is never overwritten and
 * starts zero-filled; a slab is freed when no array of it is referenced (an
 * array kept for long keeps its 64 KB slab alive, as a pooled Buffer does).
 * @module
 * @internal
 */

const SLAB_BYTES = 64 * 1024;
/** Larger requests get their own buffer. */
const MAX_POOLED_BYTES = SLAB_BYTES / 8;

let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

function region(bytes: number): [ArrayBuffer, number] {
  if (bytes > MAX_POOLED_BYTES) return [new ArrayBuffer(bytes), 0];
  if (used + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const at = used;
  used += (bytes + 7) & ~7; // keep every region 8-byte aligned
  return [slab, at];
}

/** A fresh `Int16Array` of `length` samples. @internal */
export function allocInt16(length: number): Int16Array {
  const [buf, at] = region(length * 2);
  return new Int16Array(buf, at, length);
}

/** A fresh `Uint8Array` of `length` bytes. @internal */
export function allocUint8(length: number): Uint8Array {
  const [buf, at] = region(length);
  return new Uint8Array(buf, at, length);
}

/** A fresh `Float32Array` of `length` samples. @internal */
export function allocFloat32(length: number): Float32Array {
  const [buf, at] = region(length * 4);
  return new Float32Array(buf, at, length);
}
