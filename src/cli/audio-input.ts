/**
 * The audio of a `transcribe` run: a WAV file (any format `readWav` reads), a
 * raw file or stdin (`--encoding`/`--rate`), or a WAV on stdin; delivered as
 * 20 ms frames of the input format.
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import { bytesPerSample, normalizeAudioFormat, type AudioEncoding, type AudioFormat } from '../audio/format.js';
import { readWav } from '../audio/wav.js';
import { isSttError } from '../errors/index.js';
import { InputError } from './errors.js';

/** Frame length written to the stream, ms (what Twilio sends). */
export const FRAME_MS = 20;
/** Largest WAV read from stdin (it must be read whole for its header). */
const MAX_STDIN_WAV_BYTES = 1 << 30;

/** The audio of a run, in the input's own format. */
export interface AudioInput {
  format: Required<AudioFormat>;
  /** Length, ms; undefined for raw audio on stdin (streamed as it arrives). */
  durationMs?: number;
  /** 20 ms frames (the last may be shorter), whole samples only. */
  frames(): AsyncIterable<Uint8Array>;
  /** Notes for stderr (a flag that was ignored, a partial sample dropped). */
  notes: string[];
}

const isRiff = (b: Uint8Array) => b.length >= 4 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46;

function frameBytes(format: Required<AudioFormat>): number {
  return Math.round((format.sampleRate * FRAME_MS) / 1000) * bytesPerSample(format.encoding);
}

/** Whole-buffer input: a WAV, or raw bytes of a known format. */
function fromBytes(data: Uint8Array, format: Required<AudioFormat>, notes: string[]): AudioInput {
  const step = frameBytes(format);
  const sample = bytesPerSample(format.encoding);
  const usable = data.length - (data.length % sample);
  if (usable !== data.length) notes.push(`the input ends with ${data.length - usable} byte(s) of a partial sample; dropped`);
  return {
    format,
    durationMs: Math.round((usable / sample / format.sampleRate) * 1000),
    notes,
    async *frames() {
      for (let off = 0; off < usable; off += step) yield data.subarray(off, Math.min(off + step, usable));
    },
  };
}

function fromWav(bytes: Uint8Array, name: string, raw: RawFormat | undefined, notes: string[]): AudioInput {
  if (raw) notes.push(`${name} is a WAV file: its header gives the format; --encoding and --rate are ignored`);
  try {
    const wav = readWav(bytes);
    return fromBytes(wav.data, normalizeAudioFormat(wav.format), notes);
  } catch (err) {
    if (isSttError(err)) throw new InputError('INVALID_AUDIO', `${name}: ${err.message}`);
    throw err;
  }
}

/** `--encoding` and `--rate`: the format of raw audio (Hz). */
export interface RawFormat {
  encoding: AudioEncoding;
  rate: number;
}

/**
 * Open `input` (a path, or `-` for stdin).
 * @throws {@link InputError} `FILE_NOT_FOUND`, `FILE_UNREADABLE` or `INVALID_AUDIO`.
 */
export async function openInput(input: string, raw: RawFormat | undefined, stdin: NodeJS.ReadableStream = process.stdin): Promise<AudioInput> {
  const notes: string[] = [];
  if (input === '-') return openStdin(stdin, raw, notes);
  let bytes: Uint8Array;
  try {
    const st = await stat(input);
    if (st.isDirectory()) throw new InputError('FILE_UNREADABLE', `${input} is a directory`);
    bytes = await readFile(input);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('FILE_NOT_FOUND', `${input}: no such file`);
    throw new InputError('FILE_UNREADABLE', `${input}: cannot be read (${code ?? (err as Error).message})`);
  }
  if (isRiff(bytes) || !raw) {
    if (!isRiff(bytes)) throw new InputError('INVALID_AUDIO', `${input} is not a WAV file; for raw audio pass --encoding and --rate`);
    return fromWav(bytes, input, raw, notes);
  }
  return fromBytes(bytes, normalizeAudioFormat({ encoding: raw.encoding, sampleRate: raw.rate }), notes);
}

async function openStdin(stdin: NodeJS.ReadableStream, raw: RawFormat | undefined, notes: string[]): Promise<AudioInput> {
  const it = (stdin as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  const next = async (): Promise<Uint8Array | undefined> => {
    const r = await it.next();
    if (r.done) return undefined;
    return typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
  };
  const first = await next();
  if (!first) throw new InputError('INVALID_AUDIO', 'stdin is empty');
  if (!raw || isRiff(first)) {
    if (!isRiff(first)) throw new InputError('INVALID_AUDIO', 'stdin is not a WAV; for raw audio pass --encoding and --rate');
    const parts: Uint8Array[] = [first];
    let size = first.length;
    for (let c = await next(); c; c = await next()) {
      size += c.length;
      if (size > MAX_STDIN_WAV_BYTES) throw new InputError('INVALID_AUDIO', 'a WAV on stdin must be under 1 GiB; stream raw audio with --encoding and --rate instead');
      parts.push(c);
    }
    return fromWav(Buffer.concat(parts), 'stdin', raw, notes);
  }
  // Raw audio: streamed as it arrives, in whole 20 ms frames.
  const format = normalizeAudioFormat({ encoding: raw.encoding, sampleRate: raw.rate });
  const step = frameBytes(format);
  const sample = bytesPerSample(format.encoding);
  return {
    format,
    notes,
    async *frames() {
      let pending: Uint8Array = first;
      for (;;) {
        let off = 0;
        for (; off + step <= pending.length; off += step) yield pending.subarray(off, off + step);
        const rest = pending.subarray(off);
        const c = await next();
        if (!c) {
          const whole = rest.length - (rest.length % sample);
          if (whole > 0) yield rest.subarray(0, whole);
          if (whole !== rest.length) notes.push(`stdin ended with ${rest.length - whole} byte(s) of a partial sample; dropped`);
          return;
        }
        pending = rest.length > 0 ? Buffer.concat([rest, c]) : c;
      }
    },
  };
}
