/**
 * RTZR word times in either convention: `start_at` of a final's words relative to the utterance
 * (RTZR's Korean WebSocket docs, TEN's live-tested client) or to the connection's audio (the
 * comments of RTZR's gRPC proto). Told apart per final; stream-absolute either way.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtzrProvider, StreamingRecognizer } from '../src/index.js';
import { WordTimeReader } from '../src/providers/rtzr/word-times.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { script, truth, writeCall } from './helpers/sample-call.js';

const words = (...w: [number, number][]) => w.map(([start_at, duration], i) => ({ text: `w${i}`, start_at, duration }));

describe('WordTimeReader', () => {
  it('reads utterance-relative times when only that reading puts the words inside the utterance', () => {
    const r = new WordTimeReader();
    // utterance 3989-4816 ms; words 0-400 and 420-827 from its start
    expect(r.read(words([0, 400], [420, 407]), 3989, 827)).toEqual([
      { start: 3989, end: 4389 },
      { start: 4409, end: 4816 },
    ]);
    expect(r.convention).toBe('utterance');
  });

  it('reads connection-relative times when only that reading puts the words inside the utterance', () => {
    const r = new WordTimeReader();
    expect(r.read(words([3989, 400], [4409, 407]), 3989, 827)).toEqual([
      { start: 3989, end: 4389 },
      { start: 4409, end: 4816 },
    ]);
    expect(r.convention).toBe('connection');
  });

  it('when both readings fit (an utterance near the start), the convention seen before on the connection decides', () => {
    const fresh = new WordTimeReader();
    // utterance 200-1200 ms: words 300-700 and 700-1000 fit both [200, 1200] and [0, 1000]
    expect(fresh.read(words([300, 400], [700, 300]), 200, 1000)[0]).toEqual({ start: 500, end: 900 }); // documented default: utterance
    const seen = new WordTimeReader();
    seen.read(words([5000, 300]), 5000, 400); // unambiguous: connection-relative
    expect(seen.read(words([300, 400], [700, 300]), 200, 1000)[0]).toEqual({ start: 300, end: 700 });
    expect(seen.seen).toEqual({ utterance: 0, connection: 2 });
  });

  it('tolerates words sticking out of the utterance by a little, and takes the closer reading when neither fits', () => {
    const r = new WordTimeReader();
    expect(r.read(words([3950, 500]), 4000, 400)).toEqual([{ start: 3950, end: 4450 }]); // 50 ms early, 50 ms late
    expect(r.convention).toBe('connection');
    const far = new WordTimeReader();
    expect(far.read(words([900, 500]), 4000, 400)).toEqual([{ start: 4900, end: 5400 }]); // 500 ms late as utterance-relative
    expect(far.convention).toBeUndefined(); // a guess is not remembered
  });
});

let emulator: RtzrEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  recognizer = undefined;
  emulator = undefined;
});

describe('RTZR finals carry stream-absolute word times in either convention', () => {
  for (const convention of ['utterance', 'connection'] as const) {
    it(`words' start_at ${convention}-relative`, async () => {
      emulator = await startRtzrEmulator({ script, wordTimes: convention });
      const provider = new RtzrProvider({
        apiBase: emulator.apiBase,
        websocketUrl: emulator.websocketUrl,
        clientId: emulator.credentials.clientId,
        clientSecret: emulator.credentials.clientSecret,
      });
      recognizer = new StreamingRecognizer({ providers: [provider] });
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      await writeCall(stream);
      const summary = await stream.end();
      expect(summary.transcripts.map((t) => t.text)).toEqual(script);
      for (const [i, t] of summary.transcripts.entries()) {
        const w = t.words!;
        expect(w.map((x) => x.text).join(' ')).toBe(t.text);
        // the emulator spreads the words over the utterance: first word at its start, last at its end
        expect(w[0]!.startMs).toBe(t.startMs);
        expect(w.at(-1)!.endMs).toBe(t.endMs);
        expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
      }
    });
  }

  it('rejects an unknown convention', async () => {
    await expect(startRtzrEmulator({ wordTimes: 'audio' as 'utterance' })).rejects.toThrow(/wordTimes/);
  });
});
