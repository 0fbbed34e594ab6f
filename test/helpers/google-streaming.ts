/** Running the sample call through `GoogleProvider({ mode: 'streaming' })` against the streaming emulator. */
import { afterEach, expect } from 'vitest';
import { GoogleProvider, StreamingRecognizer, type StreamSummary, type Transcript } from '../../src/index.js';
import type { RecognitionStream } from '../../src/stream/recognition-stream.js';
import { startGoogleStreamingEmulator, type GoogleStreamingEmulator, type GoogleStreamingEmulatorOptions } from '../../src/testing/index.js';
import { script, truth } from './sample-call.js';

type ProviderOptions = NonNullable<ConstructorParameters<typeof GoogleProvider>[0]>;
type RecognizerOptions = Omit<ConstructorParameters<typeof StreamingRecognizer>[0], 'providers'>;

/** One emulator + one recognizer with a streaming Google provider; `close()` releases both. */
export interface GoogleStreamingRig {
  emulator: GoogleStreamingEmulator;
  recognizer: StreamingRecognizer;
  provider: GoogleProvider;
  /** A mu-law 8 kHz stream, recording its partials and finals. */
  stream(): { stream: RecognitionStream; partials: Transcript[]; finals: Transcript[] };
  close(): Promise<void>;
}

export async function startRig(
  version: 'v1' | 'v2',
  options: { emulator?: GoogleStreamingEmulatorOptions; provider?: ProviderOptions; recognizer?: RecognizerOptions } = {},
): Promise<GoogleStreamingRig> {
  const emulator = await startGoogleStreamingEmulator({ script, ...options.emulator });
  const provider = new GoogleProvider({ mode: 'streaming', endpoint: emulator.endpoint, version, projectId: 'demo', ...options.provider });
  const recognizer = new StreamingRecognizer({ ...options.recognizer, providers: [provider] });
  return {
    emulator,
    recognizer,
    provider,
    stream() {
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      const partials: Transcript[] = [];
      const finals: Transcript[] = [];
      stream.on('partial', (t) => partials.push(t));
      stream.on('final', (t) => finals.push(t));
      return { stream, partials, finals };
    },
    async close() {
      await recognizer.close();
      await emulator.close();
    },
  };
}

/** Every final of the sample call exactly once, in order, on the stream's timeline (±300 ms), with words. */
export function expectSampleCall(summary: StreamSummary, words = true): void {
  expect(summary.error).toBeUndefined();
  expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  summary.transcripts.forEach((t, i) => {
    expect(t.utteranceId).toBe(i);
    expect(t.provider).toBe('google');
    expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
    if (words) {
      expect(t.words?.map((w) => w.text).join(' ')).toBe(t.text);
      expect(Math.abs(t.words![0]!.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    }
  });
}

/** Each partial is a prefix of its utterance's final, and every utterance had one. */
export function expectPartials(partials: readonly Transcript[], finals: readonly Transcript[]): void {
  for (const f of finals) {
    const mine = partials.filter((p) => p.utteranceId === f.utteranceId);
    expect(mine.length, `partials of "${f.text}"`).toBeGreaterThan(0);
    for (const p of mine) expect(f.text.startsWith(p.text), `"${p.text}" is a prefix of "${f.text}"`).toBe(true);
  }
}

/** A `startRig` whose rigs are closed after each test of the file that calls this at its top level. */
export function rigsClosedAfterEach(): (...args: Parameters<typeof startRig>) => Promise<GoogleStreamingRig> {
  const rigs: GoogleStreamingRig[] = [];
  afterEach(async () => {
    for (const r of rigs.splice(0)) await r.close();
  });
  return async (...args) => {
    const r = await startRig(...args);
    rigs.push(r);
    return r;
  };
}

/** Bytes of mu-law 8 kHz audio for `ms`. */
export const at = (ms: number): number => ms * 8;
