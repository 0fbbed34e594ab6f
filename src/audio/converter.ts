/**
 * Converts the caller's audio format to a provider's wire format, frame by
 * frame: G.711 decode, float32↔int16, resampling (stateful), G.711 encode.
 * Same format in and out: bytes pass through untouched.
 *
 * This is the hot path (one call per `stream.write()`, ~50 per second per
 * call for Twilio's 20 ms frames), so each stage writes into a scratch buffer
 * the converter owns and reuses: after the first frame of a given size a
 * conversion allocates nothing. Scratch buffers grow to the largest chunk
 * seen, up to {@link MAX_RETAINED_SAMPLES}; a larger chunk is converted into
 * one-off buffers so a single huge write cannot pin memory for the rest of
 * the call.
 * @module
 */
import type { AudioEncoding, AudioFormat } from './format.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from './g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16, int16AsBytes, pcm16ToFloat32 } from './pcm.js';
import { Resampler } from './resampler.js';

/**
 * Largest scratch buffer (samples) a converter keeps between calls: 1 s at 48 kHz.
 * @internal
 */
export const MAX_RETAINED_SAMPLES = 48_000;

/**
 * Pick the wire format for a provider: the caller's encoding when the provider accepts it,
 * else the provider's first; the caller's rate when inside the provider's range, else its preferred rate.
 * @internal
 */
export function negotiateFormat(
  input: Required<AudioFormat>,
  caps: { encodings: readonly AudioEncoding[]; sampleRates: { min: number; max: number }; preferredSampleRate: number },
): Required<AudioFormat> {
  const encoding = caps.encodings.includes(input.encoding) ? input.encoding : caps.encodings[0]!;
  const inRange = input.sampleRate >= caps.sampleRates.min && input.sampleRate <= caps.sampleRates.max;
  return { encoding, sampleRate: inRange ? input.sampleRate : caps.preferredSampleRate, channels: 1 };
}

type TypedArray = Int16Array | Float32Array | Uint8Array;

/**
 * A scratch buffer of at least `n` elements: `current` when big enough, else a new one that is
 * kept (via `keep`) only up to {@link MAX_RETAINED_SAMPLES}.
 */
function scratch<T extends TypedArray>(current: T, n: number, make: (n: number) => T, keep: (b: T) => void): T {
  if (current.length >= n) return current;
  if (n > MAX_RETAINED_SAMPLES) return make(n);
  // Round up so that slightly varying frame sizes do not reallocate every time.
  const size = Math.min(MAX_RETAINED_SAMPLES, Math.max(256, 2 ** Math.ceil(Math.log2(n))));
  const b = make(size);
  keep(b);
  return b;
}

/**
 * Stateful converter from one format to another.
 *
 * The bytes {@link AudioConverter.convert} and {@link AudioConverter.flush} return are a view of
 * a scratch buffer that the next `convert()`/`flush()` call overwrites (or, in passthrough, the
 * caller's own bytes): copy them before converting again if you need to keep them. The stream
 * copies them into its frame chunker synchronously.
 * @internal
 */
export class AudioConverter {
  private readonly passthrough: boolean;
  private readonly resampler: Resampler | undefined;
  private decoded = new Int16Array(0);
  private resampled = new Int16Array(0);
  private encodedBytes = new Uint8Array(0);
  private encodedFloat = new Float32Array(0);

  constructor(
    readonly input: Required<AudioFormat>,
    readonly output: Required<AudioFormat>,
  ) {
    this.passthrough = input.encoding === output.encoding && input.sampleRate === output.sampleRate;
    this.resampler =
      input.sampleRate === output.sampleRate
        ? undefined
        : new Resampler({ fromRate: input.sampleRate, toRate: output.sampleRate });
  }

  /**
   * Convert one chunk (whole samples of the input format). The result may be empty while a
   * resampler fills. Valid until the next `convert()`/`flush()` call.
   */
  convert(bytes: Uint8Array): Uint8Array {
    if (this.passthrough) return bytes;
    let pcm = this.decode(bytes);
    if (this.resampler) {
      const n = this.resampler.outputLength(pcm.length);
      const out = scratch(this.resampled, n, (k) => new Int16Array(k), (b) => (this.resampled = b));
      pcm = this.resampler.process(pcm, out);
    }
    return this.encode(pcm);
  }

  /** Emit what a resampler still holds (end of stream). Valid until the next `convert()`/`flush()` call. */
  flush(): Uint8Array {
    if (!this.resampler) return new Uint8Array(0);
    const out = scratch(this.resampled, this.resampler.delaySamples, (k) => new Int16Array(k), (b) => (this.resampled = b));
    return this.encode(this.resampler.flush(out));
  }

  private decodeTarget(n: number): Int16Array {
    return scratch(this.decoded, n, (k) => new Int16Array(k), (b) => (this.decoded = b));
  }

  private decode(bytes: Uint8Array): Int16Array {
    switch (this.input.encoding) {
      case 'linear16':
        return bytesAsInt16(bytes);
      case 'mulaw':
        return decodeMulaw(bytes, this.decodeTarget(bytes.length));
      case 'alaw':
        return decodeAlaw(bytes, this.decodeTarget(bytes.length));
      case 'float32': {
        const f = bytesAsFloat32(bytes);
        return float32ToPcm16(f, this.decodeTarget(f.length));
      }
    }
  }

  private encode(pcm: Int16Array): Uint8Array {
    switch (this.output.encoding) {
      case 'linear16':
        return int16AsBytes(pcm);
      case 'mulaw':
        return encodeMulaw(pcm, this.encodeTarget(pcm.length));
      case 'alaw':
        return encodeAlaw(pcm, this.encodeTarget(pcm.length));
      case 'float32': {
        const out = scratch(this.encodedFloat, pcm.length, (k) => new Float32Array(k), (b) => (this.encodedFloat = b));
        const f = pcm16ToFloat32(pcm, out);
        return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      }
    }
  }

  private encodeTarget(n: number): Uint8Array {
    return scratch(this.encodedBytes, n, (k) => new Uint8Array(k), (b) => (this.encodedBytes = b));
  }
}
