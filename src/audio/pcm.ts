/**
 * Sample-format conversions between 16-bit PCM (LINEAR16) and 32-bit float.
 *
 * Float samples are in [-1, 1); int16 samples in [-32768, 32767]. Conversion
 * uses the 32768 scale both ways, clamping on the way to int16.
 *
 * @module
 */

/**
 * Convert 16-bit PCM samples to float32 in [-1, 1).
 * @param out - optional output buffer (at least `input.length` samples).
 */
export function pcm16ToFloat32(input: Int16Array, out?: Float32Array): Float32Array {
  const o = out ?? new Float32Array(input.length);
  if (o.length < input.length) throw new RangeError(`output buffer too small: ${o.length} < ${input.length}`);
  for (let i = 0; i < input.length; i++) o[i] = input[i]! / 32768;
  return out ? o.subarray(0, input.length) : o;
}

/**
 * Convert float32 samples (nominally [-1, 1]) to 16-bit PCM, rounding and clamping.
 * @param out - optional output buffer (at least `input.length` samples).
 */
export function float32ToPcm16(input: Float32Array, out?: Int16Array): Int16Array {
  const o = out ?? new Int16Array(input.length);
  if (o.length < input.length) throw new RangeError(`output buffer too small: ${o.length} < ${input.length}`);
  for (let i = 0; i < input.length; i++) {
    const v = Math.round(input[i]! * 32768);
    o[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out ? o.subarray(0, input.length) : o;
}

/**
 * View little-endian 16-bit PCM bytes as an Int16Array, copying only when the
 * bytes are not 2-byte aligned. Assumes a little-endian host (every Node target).
 * @throws RangeError when the byte length is odd.
 * @internal
 */
export function bytesAsInt16(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % 2 !== 0) throw new RangeError('odd byte length for 16-bit PCM');
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return new Int16Array(copyBytes(bytes).buffer);
}

/** View an Int16Array's memory as bytes (no copy). @internal */
export function int16AsBytes(samples: Int16Array): Uint8Array {
  return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
}

/** View float32 bytes as a Float32Array, copying only when unaligned. @internal */
export function bytesAsFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new RangeError('byte length not a multiple of 4 for float32');
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(copyBytes(bytes).buffer);
}

/** A copy in a fresh ArrayBuffer (`Buffer#slice` is a view, not a copy). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}
