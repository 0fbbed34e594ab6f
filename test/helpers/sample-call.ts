/** The sample Korean call shipped in examples/audio, and helpers to play it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../../src/audio/wav.js';
import type { RecognitionStream } from '../../src/stream/recognition-stream.js';

const dir = fileURLToPath(new URL('../../examples/audio/', import.meta.url));

export const truth = JSON.parse(readFileSync(`${dir}call-ko.json`, 'utf8')) as {
  durationMs: number;
  utterances: { text: string; startMs: number; endMs: number }[];
};
export const script = truth.utterances.map((u) => u.text);
export const mulaw8k = readWav(readFileSync(`${dir}call-ko-8k-mulaw.wav`));
export const linear16k = readWav(readFileSync(`${dir}call-ko-16k-linear16.wav`));

/** Split bytes into frames of `frameBytes`. */
export function* frames(data: Uint8Array, frameBytes: number): Generator<Uint8Array> {
  for (let off = 0; off < data.length; off += frameBytes) yield data.subarray(off, Math.min(off + frameBytes, data.length));
}

/** Write the whole call as fast as backpressure allows (20 ms mu-law frames), without ending. */
export async function writeCall(stream: RecognitionStream, data = mulaw8k.data, frameBytes = 160): Promise<void> {
  for (const f of frames(data, frameBytes)) {
    if (!stream.write(f)) await new Promise<void>((r) => stream.once('drain', r));
  }
}
