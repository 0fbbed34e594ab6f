/**
 * Converts the caller's audio format to a provider's wire format, frame by
 * frame: G.711 decode, float32↔int16, resampling (stateful), G.711 encode.
 * Same format in and out: bytes pass through untouched.
 * @module
 */
import type { AudioEncoding, AudioFormat } from './format.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from './g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16, int16AsBytes, pcm16ToFloat32 } from './pcm.js';
import { Resampler } from './resampler.js';

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

  /** Convert one chunk (whole samples of the input format). The result may be empty while a resampler fills. */
  convert(bytes: Uint8Array): Uint8Array {
    if (this.passthrough) return bytes;
    let pcm = this.decode(bytes);
    if (this.resampler) pcm = this.resampler.process(pcm);
    return this.encode(pcm);
  }

  /** Emit what a resampler still holds (end of stream). */
  flush(): Uint8Array {
    if (!this.resampler) return new Uint8Array(0);
    return this.encode(this.resampler.flush());
  }

  private decode(bytes: Uint8Array): Int16Array {
    switch (this.input.encoding) {
      case 'linear16':
        return bytesAsInt16(bytes);
      case 'mulaw':
        return decodeMulaw(bytes);
      case 'alaw':
        return decodeAlaw(bytes);
      case 'float32':
        return float32ToPcm16(bytesAsFloat32(bytes));
    }
  }

  private encode(pcm: Int16Array): Uint8Array {
    switch (this.output.encoding) {
      case 'linear16':
        return int16AsBytes(pcm);
      case 'mulaw':
        return encodeMulaw(pcm);
      case 'alaw':
        return encodeAlaw(pcm);
      case 'float32': {
        const f = pcm16ToFloat32(pcm);
        return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      }
    }
  }
}
