/**
 * Turn what the caller writes into bytes of the declared input format, or a typed error.
 * @module
 */
import type { AudioEncoding } from '../audio/format.js';
import { AudioFormatError } from '../errors/index.js';

/** What `stream.write()` accepts. */
export type AudioChunk = Uint8Array | ArrayBuffer | Int16Array | Float32Array;

/**
 * Bytes of `chunk`, checked against the stream's encoding (no copy). The byte count need not be
 * whole samples: a partial sample is carried over to the next chunk (see `SampleCarry`).
 * @throws {@link AudioFormatError} only for a chunk that can never be audio: not binary, or a typed
 * array that does not match the encoding (an `Int16Array` on a mu-law stream).
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
    const kind =
      chunk === null
        ? 'null'
        : Array.isArray(chunk)
          ? 'an array'
          : typeof chunk === 'object'
            ? ((chunk as { constructor?: { name?: string } }).constructor?.name ?? 'an object')
            : typeof chunk;
    throw new AudioFormatError(
      `write() takes binary audio (Uint8Array, Buffer, ArrayBuffer, Int16Array or Float32Array), got ${kind}`,
    );
  }
  return bytes;
}

/**
 * What `pipeFrom()` reads: an async iterable (a Node `Readable`), a sync iterable (an array, a
 * generator) or a web `ReadableStream`.
 * @throws {@link AudioFormatError} for anything else, or for one chunk passed instead of a source.
 * @internal
 */
export function toAsyncIterable<T>(source: AsyncIterable<T> | ReadableStream<T> | Iterable<T>): AsyncIterable<T> | Iterable<T> {
  if (typeof source !== 'object' || source === null) {
    throw new AudioFormatError(`pipeFrom() takes an iterable or a ReadableStream of audio chunks, got ${source === null ? 'null' : typeof source}`);
  }
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) {
    throw new AudioFormatError('pipeFrom() takes an iterable of audio chunks, not one chunk: pass [bytes], or use write()');
  }
  if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as AsyncIterable<T> | Iterable<T>;
  if (typeof (source as ReadableStream<T>).getReader === 'function') return readableToIterable(source as ReadableStream<T>);
  throw new AudioFormatError('pipeFrom() takes an async iterable, a sync iterable or a ReadableStream of audio chunks');
}

async function* readableToIterable<T>(stream: ReadableStream<T>): AsyncIterable<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
