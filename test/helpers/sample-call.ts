/** The sample Korean call shipped in examples/audio, and helpers to play it. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../../src/audio/wav.js';
import type { ExpectStatic } from 'vitest';
import type { RecognitionStream } from '../../src/stream/recognition-stream.js';
import type { StreamSummary } from '../../src/stream/types.js';

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
    if (stream.state !== 'connecting' && stream.state !== 'open') return; // failed or closed: stop writing
    if (!stream.write(f)) await waitDrainOrClose(stream);
  }
}

function waitDrainOrClose(stream: RecognitionStream): Promise<void> {
  if (stream.state !== 'connecting' && stream.state !== 'open') return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
  });
}

/** Play the call as Twilio would (20 ms mu-law frames), `speed` times faster than real time. */
export async function playCall(stream: RecognitionStream, speed: number, data = mulaw8k.data): Promise<void> {
  const started = performance.now();
  let i = 0;
  for (const f of frames(data, 160)) {
    if (stream.state !== 'connecting' && stream.state !== 'open') return;
    stream.write(f);
    i++;
    const wait = started + (i * 20) / speed - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}

/** What a test recorded of one call. */
export interface RecordedCall {
  summary: StreamSummary;
  /** Codes of the `error` events. */
  errors: string[];
  /** `utteranceId` of each `final` and `partial` event, in order. */
  finalIds: number[];
  partialIds: number[];
}

/** Finals are within this much of the ground truth's utterance times, ms. */
export const TOLERANCE_MS = 300;

/**
 * The promise of no lost words: every ground-truth final exactly once, in order, continuous ids,
 * times within {@link TOLERANCE_MS}, no error; partials never go back to an older utterance.
 * Takes the test's `expect` (concurrent tests must use their own).
 */
export function expectGroundTruth(expect: ExpectStatic, run: RecordedCall): void {
  expect(run.errors).toEqual([]);
  expect(run.summary.error).toBeUndefined();
  expect(run.summary.transcripts.map((t) => t.text)).toEqual(script);
  expect(run.finalIds).toEqual(script.map((_, i) => i));
  run.summary.transcripts.forEach((t, i) => {
    expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(TOLERANCE_MS);
    expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(TOLERANCE_MS);
  });
  for (let i = 1; i < run.partialIds.length; i++) expect(run.partialIds[i]!).toBeGreaterThanOrEqual(run.partialIds[i - 1]!);
}
