/**
 * Turn what the caller writes into bytes of the declared input format, or a typed error.
 * @module
 */
import type { AudioEncoding } from '../audio/format.js';
import { AudioFormatError } from '../errors/index.js';

/** What `stream.write()` accepts. */
export type AudioChunk = Uint8Array | ArrayBuffer | Int16Array | Float32Array;

/**
 * Bytes of `chunk`, checked against the stream's encoding (no copy).
 * @throws {@link AudioFormatError} for a non-binary chunk, a typed array that does not match the
 * encoding, or a byte count that is not whole samples (odd LINEAR16, float32 not a multiple of 4).
 * @internal
 */
export function chunkBytes(chunk: unknown, encoding: AudioEncoding): Uint8Array {
  let bytes: Uint8Array;
  if (chunk instanceof Uint8Array) bytes = chunk;
  else if (chunk instanceof ArrayBuffer) bytes = new Uint8Array(chunk);
  else if (chunk instanceof Int16Array) {
    if (encoding !== 'linear16') {
      throw new AudioFormatError(`got an Int16Array but the stream's audio encoding is ${encoding}`);
    }
    bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  } else if (chunk instanceof Float32Array) {
    if (encoding !== 'float32') {
      throw new AudioFormatError(`got a Float32Array but the stream's audio encoding is ${encoding}`);
    }
    bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  } else {
    const kind = chunk === null ? 'null' : Array.isArray(chunk) ? 'array' : typeof chunk;
    throw new AudioFormatError(
      `write() takes binary audio (Uint8Array, Buffer, ArrayBuffer, Int16Array or Float32Array), got ${kind}`,
    );
  }
  if (encoding === 'linear16' && bytes.byteLength % 2 !== 0) {
    throw new AudioFormatError(
      `LINEAR16 chunk of ${bytes.byteLength} bytes is not a whole number of 16-bit samples; nothing of it was written`,
    );
  }
  if (encoding === 'float32' && bytes.byteLength % 4 !== 0) {
    throw new AudioFormatError(
      `float32 chunk of ${bytes.byteLength} bytes is not a whole number of 32-bit samples; nothing of it was written`,
    );
  }
  return bytes;
}
