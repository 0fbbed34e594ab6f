/**
 * Self-hosted Whisper as the fallback of RTZR: the words spoken around the drop are replayed into
 * the Whisper server and none is lost.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FasterWhisperProvider, RtzrProvider, StreamingRecognizer, type FallbackEvent } from '../src/index.js';
import {
  ScriptCursor,
  startFasterWhisperEmulator,
  startRtzrEmulator,
  type FasterWhisperEmulator,
  type RtzrEmulator,
} from '../src/testing/index.js';
import { playCall, script, truth } from './helpers/sample-call.js';

let rtzr: RtzrEmulator | undefined;
let whisper: FasterWhisperEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;
afterEach(async () => {
  await recognizer?.close();
  await rtzr?.close();
  await whisper?.close();
});

describe('Faster-Whisper as the fallback after an RTZR drop', () => {
  it('loses no words: RTZR finals before the drop, Faster-Whisper finals after, all in order', async () => {
    const cursor = new ScriptCursor(script);
    rtzr = await startRtzrEmulator({ script: cursor });
    whisper = await startFasterWhisperEmulator({ script: cursor });
    recognizer = new StreamingRecognizer({
      providers: [
        new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials }),
        new FasterWhisperProvider({
          url: whisper.url,
          chunkDurationMs: whisper.chunkDurationMs,
          overlapDurationMs: whisper.overlapDurationMs,
        }),
      ],
      reconnect: false, // a drop goes straight to the fallback
    });
    rtzr.faults.dropAfterAudioMs(4400); // inside utterance 1 (3989–4816 ms)
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const fallbacks: FallbackEvent[] = [];
    stream.on('fallback', (e) => fallbacks.push(e));
    await playCall(stream, 8);
    const summary = await stream.end();

    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(summary.transcripts.map((t) => t.utteranceId)).toEqual([0, 1, 2, 3]);
    expect(summary.transcripts.map((t) => t.provider)).toEqual(['rtzr', 'faster-whisper', 'faster-whisper', 'faster-whisper']);
    summary.transcripts.forEach((t, i) => {
      expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
      expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
    });
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatchObject({ from: 'rtzr', to: 'faster-whisper' });
    expect(fallbacks[0]!.reason.code).toBe('CONNECTION_LOST');
    // the replay started at the end of utterance 0, so utterance 1 was heard whole by Whisper
    expect(fallbacks[0]!.replayedMs).toBeGreaterThan(4400 - truth.utterances[0]!.endMs - 100);
    expect(summary.providers).toEqual(['rtzr', 'faster-whisper']);
  });
});
