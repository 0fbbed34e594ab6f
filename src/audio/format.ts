/**
 * Audio format descriptions shared by streams and providers.
 * @module
 */
import { ConfigurationError } from '../errors/index.js';

/** Sample encodings a stream accepts from the caller and a provider may accept on the wire. */
export type AudioEncoding = 'linear16' | 'mulaw' | 'alaw' | 'float32';

/** The encodings, in a stable order. */
export const AUDIO_ENCODINGS: readonly AudioEncoding[] = ['linear16', 'mulaw', 'alaw', 'float32'];

/**
 * An audio format: encoding, sample rate (Hz) and channel count (mono only).
 * `linear16` is 16-bit signed little-endian PCM; `float32` is 32-bit little-endian float in [-1, 1].
 */
export interface AudioFormat {
  /** Sample encoding: `'linear16'`, `'mulaw'` (G.711 mu-law), `'alaw'` (G.711 A-law) or `'float32'`. */
  encoding: AudioEncoding;
  /** Samples per second, in Hz (8000 for telephony, 16000 for wideband). */
  sampleRate: number;
  /** Channel count; only mono (1) is supported. */
  channels?: 1;
}

/** Lowest and highest sample rate (Hz) a stream accepts. */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;

/** Bytes per sample of an encoding. */
export function bytesPerSample(encoding: AudioEncoding): number {
  switch (encoding) {
    case 'linear16':
      return 2;
    case 'float32':
      return 4;
    default:
      return 1;
  }
}

/** Bytes per millisecond of audio in `format` (may be fractional, e.g. 8 for 8 kHz mu-law). */
export function bytesPerMs(format: AudioFormat): number {
  return (format.sampleRate * bytesPerSample(format.encoding)) / 1000;
}

/**
 * Validate and normalise a caller's audio format.
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) for an unknown encoding, a sample rate
 * outside 8000–48000 Hz or not an integer, or more than one channel.
 */
export function normalizeAudioFormat(format: Partial<AudioFormat> | undefined): Required<AudioFormat> {
  const encoding = format?.encoding ?? 'linear16';
  const sampleRate = format?.sampleRate ?? 16000;
  if (!AUDIO_ENCODINGS.includes(encoding)) {
    throw new ConfigurationError(
      `unknown audio encoding ${JSON.stringify(encoding)}; expected one of ${AUDIO_ENCODINGS.join(', ')}`,
    );
  }
  if (!Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new ConfigurationError(
      `unsupported sample rate ${String(sampleRate)} Hz; expected an integer from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE}`,
    );
  }
  if (format?.channels !== undefined && format.channels !== 1) {
    throw new ConfigurationError(`unsupported channel count ${String(format.channels)}; only mono (1) is supported`);
  }
  return { encoding, sampleRate, channels: 1 };
}
