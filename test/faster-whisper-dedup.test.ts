/**
 * Faster-Whisper overlap de-duplication against the emulator's Whisper-like chunk edges: a word a
 * chunk's end cuts comes out garbled (two tokens), a word its start cuts as its tail, the next (or
 * previous) chunk hears it whole. By text when replies are text only (the seeds' server), by time
 * when they carry word times (examples/faster-whisper/server.py).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FasterWhisperProvider, StreamingRecognizer, type StreamSummary } from '../src/index.js';
import { startFasterWhisperEmulator, type FasterWhisperEmulator } from '../src/testing/index.js';
import { script, truth, writeCall } from './helpers/sample-call.js';

let emulator: FasterWhisperEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  recognizer = undefined;
  emulator = undefined;
});

async function run(chunk: number, overlap: number, wordTimes: boolean) {
  emulator = await startFasterWhisperEmulator({ script, chunkDurationMs: chunk, overlapDurationMs: overlap, mangleEdges: true, wordTimes });
  const provider = new FasterWhisperProvider({ url: emulator.url, chunkDurationMs: chunk, overlapDurationMs: overlap });
  recognizer = new StreamingRecognizer({ providers: [provider], reconnect: false });
  const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
  await writeCall(stream);
  const summary: StreamSummary = await stream.end();
  return { emulator, provider, summary };
}

/** Every ground-truth word once, in order, in its utterance; nothing else. */
function expectEveryWordOnce(summary: StreamSummary): void {
  expect(summary.error).toBeUndefined();
  expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  summary.transcripts.forEach((t, i) => {
    expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
  });
}

// chunk / overlap pairs whose overlap holds the longest word of the call (0.8 s): shorter ones
// leave a word no chunk hears whole, garbled in every reply (docs/faster-whisper.md, tuning)
const configs = [
  [2000, 500],
  [1500, 750],
  [2000, 1000],
  [2500, 1000],
  [3000, 1500],
] as const;

describe('Faster-Whisper de-dup with mangled chunk edges', () => {
  for (const [chunk, overlap] of configs) {
    it(`text only, chunk ${chunk} / overlap ${overlap} ms: no word twice, none lost, no garbage left`, async () => {
      const { emulator, provider, summary } = await run(chunk, overlap, false);
      expect(emulator.counters.wordsMangled).toBeGreaterThan(0);
      expectEveryWordOnce(summary);
      expect(provider.stats.overlapWordsRetracted).toBeGreaterThan(0); // the garbled edges were taken back
      expect(provider.stats.timedReplies).toBe(0);
      expect(summary.transcripts.every((t) => t.words === undefined)).toBe(true);
    });

    it(`with word times, chunk ${chunk} / overlap ${overlap} ms: de-dup by time, words with stream-absolute times`, async () => {
      const { emulator, provider, summary } = await run(chunk, overlap, true);
      expect(emulator.counters.wordsMangled).toBeGreaterThan(0);
      expectEveryWordOnce(summary);
      // every reply with words carried times (silent chunks carry none)
      expect(provider.stats.timedReplies).toBe(emulator.connectionsLog[0]!.replies.filter((r) => r !== '').length);
      for (const [i, t] of summary.transcripts.entries()) {
        expect(t.words!.map((w) => w.text).join(' ')).toBe(t.text);
        let last = -1;
        for (const w of t.words!) {
          // stream-absolute: where the utterance is in the call (the emulator's word times are approximate)
          expect(w.startMs).toBeGreaterThanOrEqual(truth.utterances[i]!.startMs - 300);
          expect(w.endMs).toBeLessThanOrEqual(truth.utterances[i]!.endMs + 300);
          expect(w.startMs).toBeGreaterThanOrEqual(last); // in order, no word twice
          last = w.startMs;
        }
      }
    });
  }
});
