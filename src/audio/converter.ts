/**
 * Converts the caller's audio format to a provider's wire format, frame by
 * frame: G.711 decode, float32↔int16, resampling (stateful), G.711 encode.
 * Same format in and out: bytes pass through untouched.
 *
 * Per frame, intermediate samples go to a scratch buffer reused by the
 * converter, and the output is carved out of a shared slab (`slab.ts`), so a
 * 20 ms frame costs no backing-store allocation. Outputs are still fresh:
 * never overwritten by later calls.
 * @module
 */
import type { AudioEncoding, AudioFormat } from './format.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from './g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16, int16AsBytes, pcm16ToFloat32 } from './pcm.js';
import { Resampler } from './resampler.js';
import { allocFloat32, allocInt16, allocUint8 } from './slab.js';

/**
 * Largest scratch buffer (samples) a converter keeps between calls: 1 s at 48 kHz. A larger chunk
 * gets a one-off buffer, so a single huge write cannot pin memory for the rest of the call.
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

/** Stateful converter from one format to another. @internal */
export class AudioConverter {
  private readonly passthrough: boolean;
  private readonly resampler: Resampler | undefined;
  /** Whether the decoded samples are the output itself (no resampling, LINEAR16 out). */
  private readonly decodedIsOutput: boolean;
  /** Reused for samples that are consumed within one call. */
  private scratch = new Int16Array(0);

  constructor(
    readonly input: Required<AudioFormat>,
    readonly output: Required<AudioFormat>,
  ) {
    this.passthrough = input.encoding === output.encoding && input.sampleRate === output.sampleRate;
    this.resampler =
      input.sampleRate === output.sampleRate
        ? undefined
        : new Resampler({ fromRate: input.sampleRate, toRate: output.sampleRate });
    this.decodedIsOutput = !this.resampler && output.encoding === 'linear16';
  }

  /**
   * Convert one chunk (whole samples of the input format). The result may be empty while a
   * resampler fills; it is never overwritten by later calls (the input itself when passing through).
   */
  convert(bytes: Uint8Array): Uint8Array {
    if (this.passthrough) return bytes;
    let pcm = this.decode(bytes);
    if (this.resampler) pcm = this.resampler.process(pcm, allocInt16(this.resampler.outputLength(pcm.length)));
    return this.encode(pcm);
  }

  /** Emit what a resampler still holds (end of stream). */
  flush(): Uint8Array {
    if (!this.resampler) return new Uint8Array(0);
    return this.encode(this.resampler.flush());
  }

  /** Samples of `bytes`: the output itself when nothing follows, else scratch valid until the next call. */
  private decode(bytes: Uint8Array): Int16Array {
    const n = this.input.encoding === 'float32' ? bytes.byteLength / 4 : bytes.byteLength;
    // LINEAR16 in is never the output as is (same rate and encoding out would be passthrough): a view
    if (this.input.encoding === 'linear16') return bytesAsInt16(bytes);
    const out = this.decodedIsOutput ? allocInt16(n) : this.scratchFor(n);
    switch (this.input.encoding) {
      case 'mulaw':
        return decodeMulaw(bytes, out);
      case 'alaw':
        return decodeAlaw(bytes, out);
      case 'float32':
        return float32ToPcm16(bytesAsFloat32(bytes), out);
    }
  }

  private scratchFor(n: number): Int16Array {
    if (n > MAX_RETAINED_SAMPLES) return new Int16Array(n);
    if (this.scratch.length < n) this.scratch = new Int16Array(Math.min(MAX_RETAINED_SAMPLES, Math.max(n, this.scratch.length * 2)));
    return this.scratch.subarray(0, n);
  }

  /** Samples of scratch kept between calls (for tests). @internal */
  get retainedScratchSamples(): number {
    return this.scratch.length;
  }

  private encode(pcm: Int16Array): Uint8Array {
    switch (this.output.encoding) {
      case 'linear16':
        return int16AsBytes(pcm);
      case 'mulaw':
        return encodeMulaw(pcm, allocUint8(pcm.length));
      case 'alaw':
        return encodeAlaw(pcm, allocUint8(pcm.length));
      case 'float32': {
        const f = pcm16ToFloat32(pcm, allocFloat32(pcm.length));
        return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      }
    }
  }
}

