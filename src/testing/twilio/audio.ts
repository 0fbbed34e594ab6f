/**
 * The simulated caller's audio: any WAV `readWav` reads (or raw samples) → 8 kHz mu-law.
 * @module
 * @internal
 */
import { AudioConverter } from '../../audio/converter.js';
import { bytesPerSample, normalizeAudioFormat, type AudioFormat } from '../../audio/format.js';
import { AudioFormatError } from '../../errors/index.js';
import { readWav } from '../../audio/wav.js';
import { chunkBytes } from '../../stream/input.js';

const TWILIO_FORMAT = { encoding: 'mulaw', sampleRate: 8000, channels: 1 } as const;

/**
 * Twilio's audio for `audio`: 8 kHz mu-law bytes.
 * @throws `AudioFormatError` (`INVALID_AUDIO`) when `audio` is not a WAV `readWav` reads (and no
 * `format` is given) or raw bytes are not whole samples; `ConfigurationError` (`INVALID_CONFIG`)
 * for an invalid `format`.
 */
export function toTwilioAudio(audio: Uint8Array | ArrayBuffer, format?: AudioFormat): Uint8Array {
  const bytes = audio instanceof Uint8Array ? audio : new Uint8Array(audio);
  let input: Required<AudioFormat>;
  let data: Uint8Array;
  if (format) {
    input = normalizeAudioFormat(format);
    data = chunkBytes(bytes, input.encoding);
    const sampleBytes = bytesPerSample(input.encoding);
    if (data.byteLength % sampleBytes !== 0) {
      throw new AudioFormatError(`${data.byteLength} bytes of ${input.encoding} audio are not a whole number of ${sampleBytes}-byte samples`);
    }
  } else {
    const wav = readWav(bytes);
    input = wav.format;
    data = wav.data;
  }
  const converter = new AudioConverter(input, TWILIO_FORMAT);
  // convert() returns a view of a scratch buffer that flush() reuses: copy it first.
  const body = new Uint8Array(converter.convert(data));
  const tail = converter.flush();
  const out = new Uint8Array(body.length + tail.length);
  out.set(body, 0);
  out.set(tail, body.length);
  return out;
}
