/**
 * Minimal RIFF/WAVE reader for mono telephony and wideband audio.
 *
 * Supported: format tags 1 (PCM, 16-bit), 3 (IEEE float, 32-bit), 6 (A-law,
 * 8-bit), 7 (mu-law, 8-bit), and 0xFFFE (WAVE_FORMAT_EXTENSIBLE) whose
 * sub-format GUID is one of those. Unknown chunks (`fact`, `LIST`, `cue `, …)
 * are skipped, including the pad byte after an odd-sized chunk. A `data` chunk
 * whose size field is 0 or 0xFFFFFFFF (written by a streaming recorder that
 * never went back to patch the header) extends to the end of the file.
 *
 * Everything else (multi-channel, 8-bit or 24-bit PCM, 64-bit float, ADPCM,
 * big-endian RIFX, RF64, truncated or missing chunks) is rejected with an
 * {@link AudioFormatError} (`INVALID_AUDIO`).
 *
 * @module
 */
import { AudioFormatError } from '../errors/index.js';
import type { AudioEncoding, AudioFormat } from './format.js';

/** A parsed WAV file. */
export interface WavInfo {
  /** Sample encoding, sample rate (Hz) and channel count (always 1) of {@link WavInfo.data}. */
  format: Required<AudioFormat>;
  /**
   * The raw sample bytes of the `data` chunk (mono, little-endian, in
   * `format.encoding`), as a view of the input (no copy). A `linear16` view
   * may start at an odd byte offset; use `bytesAsInt16` (it copies only then).
   */
  data: Uint8Array;
  /** Duration of `data` in milliseconds (may be fractional, e.g. 10139.375). */
  durationMs: number;
}

const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
const WAVE_FORMAT_ALAW = 0x0006;
const WAVE_FORMAT_MULAW = 0x0007;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** Bytes 4..15 of every `{0000xxxx-0000-0010-8000-00AA00389B71}` KSDATAFORMAT_SUBTYPE GUID. */
const GUID_SUFFIX = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

const KNOWN_TAGS: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0011: 'IMA ADPCM',
  0x0031: 'GSM 6.10',
  0x0055: 'MPEG Layer 3',
  0x0064: 'G.721 ADPCM',
};

function fourcc(view: DataView, offset: number): string {
  return String.fromCharCode(
    view.getUint8(offset),
    view.getUint8(offset + 1),
    view.getUint8(offset + 2),
    view.getUint8(offset + 3),
  );
}

function hex(tag: number): string {
  return `0x${tag.toString(16).toUpperCase().padStart(4, '0')}`;
}

function fail(message: string): never {
  throw new AudioFormatError(`invalid WAV: ${message}`);
}

interface Fmt {
  encoding: AudioEncoding;
  sampleRate: number;
  blockAlign: number;
}

function parseFmt(view: DataView, start: number, size: number): Fmt {
  if (size < 16) fail(`fmt chunk is ${size} bytes; expected at least 16`);
  let tag = view.getUint16(start, true);
  const channels = view.getUint16(start + 2, true);
  const sampleRate = view.getUint32(start + 4, true);
  const blockAlign = view.getUint16(start + 12, true);
  const bits = view.getUint16(start + 14, true);

  if (tag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) fail(`WAVE_FORMAT_EXTENSIBLE fmt chunk is ${size} bytes; expected at least 40`);
    const sub = view.getUint32(start + 24, true);
    let standard = sub <= 0xffff;
    for (let i = 0; i < GUID_SUFFIX.length && standard; i++) {
      if (view.getUint8(start + 28 + i) !== GUID_SUFFIX[i]) standard = false;
    }
    if (!standard) fail('WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID is not supported');
    tag = sub;
  }

  if (channels !== 1) {
    fail(`${channels} channels; only mono (1 channel) is supported — downmix the file first`);
  }
  if (sampleRate === 0) fail('sample rate is 0 Hz');

  let encoding: AudioEncoding;
  let bytes: number;
  switch (tag) {
    case WAVE_FORMAT_PCM:
      if (bits !== 16) fail(`${bits}-bit PCM is not supported; only 16-bit PCM is`);
      encoding = 'linear16';
      bytes = 2;
      break;
    case WAVE_FORMAT_IEEE_FLOAT:
      if (bits !== 32) fail(`${bits}-bit IEEE float is not supported; only 32-bit float is`);
      encoding = 'float32';
      bytes = 4;
      break;
    case WAVE_FORMAT_ALAW:
      if (bits !== 8) fail(`A-law with ${bits} bits per sample; expected 8`);
      encoding = 'alaw';
      bytes = 1;
      break;
    case WAVE_FORMAT_MULAW:
      if (bits !== 8) fail(`mu-law with ${bits} bits per sample; expected 8`);
      encoding = 'mulaw';
      bytes = 1;
      break;
    default: {
      const name = KNOWN_TAGS[tag];
      fail(
        `unsupported format tag ${hex(tag)}${name ? ` (${name})` : ''}; ` +
          'supported: PCM 16-bit, IEEE float 32-bit, A-law, mu-law',
      );
    }
  }
  if (blockAlign !== bytes) fail(`block align is ${blockAlign}; expected ${bytes} for mono ${encoding}`);
  return { encoding, sampleRate, blockAlign };
}

/**
 * Parse a WAV file held in memory.
 *
 * @param bytes - the whole file (a Node `Buffer` works too).
 * @returns format, sample bytes (a view of `bytes`, no copy) and duration in ms.
 * @throws {@link AudioFormatError} (`INVALID_AUDIO`) when the file is not a
 *   RIFF/WAVE file, is truncated, lacks a `fmt ` or `data` chunk, is not mono,
 *   or uses an unsupported sample format.
 *
 * @example
 * ```ts
 * const wav = readWav(await readFile('call.wav'));
 * if (wav.format.encoding === 'mulaw') pcm = decodeMulaw(wav.data);
 * ```
 */
export function readWav(bytes: Uint8Array | ArrayBuffer): WavInfo {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const total = u8.byteLength;
  if (total < 12) fail(`file is ${total} bytes; too short for a RIFF header (12 bytes)`);
  const riff = fourcc(view, 0);
  if (riff === 'RIFX') fail('big-endian RIFX files are not supported');
  if (riff === 'RF64') fail('RF64 (64-bit WAV) files are not supported');
  if (riff !== 'RIFF') fail(`missing RIFF signature (found ${JSON.stringify(riff)})`);
  const wave = fourcc(view, 8);
  if (wave !== 'WAVE') fail(`RIFF form type is ${JSON.stringify(wave)}, not WAVE`);

  let fmt: Fmt | undefined;
  let offset = 12;
  while (offset < total) {
    if (total - offset < 8) {
      // A lone pad byte or stray trailing bytes after the last chunk.
      if (fmt) fail('missing data chunk (file ends with a truncated chunk header)');
      fail('missing fmt chunk (file ends with a truncated chunk header)');
    }
    const id = fourcc(view, offset);
    const size = view.getUint32(offset + 4, true);
    const start = offset + 8;
    const remaining = total - start;

    if (id === 'data') {
      if (!fmt) fail('data chunk comes before the fmt chunk (or fmt is missing)');
      let length: number;
      if (size === 0 || size === 0xffffffff) {
        // Streamed WAV: size never patched; the data runs to the end of the file.
        length = remaining - (remaining % fmt.blockAlign);
      } else {
        if (size > remaining) {
          fail(`data chunk declares ${size} bytes but only ${remaining} remain (truncated file)`);
        }
        if (size % fmt.blockAlign !== 0) {
          fail(`data chunk size ${size} is not a multiple of the block align (${fmt.blockAlign})`);
        }
        length = size;
      }
      const samples = length / fmt.blockAlign;
      return {
        format: { encoding: fmt.encoding, sampleRate: fmt.sampleRate, channels: 1 },
        data: u8.subarray(start, start + length),
        durationMs: (samples * 1000) / fmt.sampleRate,
      };
    }

    if (size > remaining) {
      fail(`${JSON.stringify(id)} chunk declares ${size} bytes but only ${remaining} remain (truncated file)`);
    }
    if (id === 'fmt ') {
      if (fmt) fail('more than one fmt chunk');
      fmt = parseFmt(view, start, size);
    }
    offset = start + size + (size & 1);
  }
  fail(fmt ? 'missing data chunk' : 'missing fmt chunk');
}
