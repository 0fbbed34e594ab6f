import { afterEach, describe, expect, it } from 'vitest';
import {
  FasterWhisperProvider,
  StreamingRecognizer,
  type FasterWhisperProviderOptions,
  type RecognitionStream,
  type StreamSummary,
  type Transcript,
} from '../src/index.js';
import {
  startFasterWhisperEmulator,
  type FasterWhisperEmulator,
  type FasterWhisperEmulatorOptions,
} from '../src/testing/index.js';
import { frames, linear16k, mulaw8k, script, truth, writeCall } from './helpers/sample-call.js';

let emulator: FasterWhisperEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

async function setup(
  emu: FasterWhisperEmulatorOptions = {},
  opts: FasterWhisperProviderOptions = {},
): Promise<{ emulator: FasterWhisperEmulator; provider: FasterWhisperProvider; recognizer: StreamingRecognizer }> {
  emulator = await startFasterWhisperEmulator({ script, ...emu });
  const provider = new FasterWhisperProvider({
    url: emulator.url,
    chunkDurationMs: emulator.chunkDurationMs,
    overlapDurationMs: emulator.overlapDurationMs,
    ...opts,
  });
  // reconnect: false — these tests check how each failure is reported, not how it is recovered
  // (test/fallback-matrix.test.ts and the fallback tests below cover recovery).
  recognizer = new StreamingRecognizer({ providers: [provider], reconnect: false });
  return { emulator, provider, recognizer };
}

afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  recognizer = undefined;
  emulator = undefined;
});

const formats = [
  { name: 'mu-law 8 kHz', audio: { encoding: 'mulaw', sampleRate: 8000 } as const, data: mulaw8k.data, frameBytes: 160 },
  { name: 'LINEAR16 16 kHz', audio: { encoding: 'linear16', sampleRate: 16000 } as const, data: linear16k.data, frameBytes: 640 },
];

interface Recorded {
  summary: StreamSummary;
  events: { type: 'partial' | 'final'; id: number; text: string }[];
}

async function play(stream: RecognitionStream, data: Uint8Array, frameBytes: number): Promise<Recorded> {
  const events: Recorded['events'] = [];
  stream.on('partial', (t) => events.push({ type: 'partial', id: t.utteranceId, text: t.text }));
  stream.on('final', (t) => events.push({ type: 'final', id: t.utteranceId, text: t.text }));
  await writeCall(stream, data, frameBytes);
  return { summary: await stream.end(), events };
}

function expectGroundTruth(summary: StreamSummary): void {
  expect(summary.error).toBeUndefined();
  expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  summary.transcripts.forEach((t, i) => {
    expect(t.utteranceId).toBe(i);
    expect(t.provider).toBe('faster-whisper');
    expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
    expect(Number.isInteger(t.latencyMs)).toBe(true); // set on every final (clamped at 0, so >= 0 says nothing)
  });
}

describe('FasterWhisperProvider through StreamingRecognizer', () => {
  for (const f of formats) {
    it(`turns the sample call (${f.name}) into its 4 ground-truth finals, exactly once, in order`, async () => {
      const { emulator, provider, recognizer } = await setup();
      const { summary, events } = await play(recognizer.stream({ audio: f.audio }), f.data, f.frameBytes);
      expectGroundTruth(summary);
      expect(summary.text).toBe(script.join(' '));
      expect(summary.providers).toEqual(['faster-whisper']);
      // the server did re-send words across chunk overlaps, and none of them reached a final
      expect(emulator.counters.wordsResent).toBeGreaterThan(0);
      expect(provider.stats.overlapWordsRemoved).toBe(emulator.counters.wordsResent);
      // partials grow word by word and precede their final
      for (let i = 0; i < script.length; i++) {
        const finalAt = events.findIndex((e) => e.type === 'final' && e.id === i);
        expect(finalAt).toBeGreaterThanOrEqual(0);
        for (const [k, e] of events.entries()) {
          if (e.type !== 'partial' || e.id !== i) continue;
          expect(k).toBeLessThan(finalAt);
          expect(`${script[i]} `.startsWith(`${e.text} `)).toBe(true);
        }
      }
      expect(events.filter((e) => e.type === 'partial').length).toBeGreaterThan(0);
      expect(emulator.counters.openConnections).toBe(0);
    });
  }

  for (const [chunk, overlap] of [
    [1000, 200],
    [1500, 750],
    [3000, 1000],
    [2000, 1500],
  ] as const) {
    it(`loses and repeats no word with chunk ${chunk} ms / overlap ${overlap} ms`, async () => {
      const { emulator, recognizer } = await setup({ chunkDurationMs: chunk, overlapDurationMs: overlap });
      const { summary } = await play(recognizer.stream({ audio: formats[0]!.audio }), mulaw8k.data, 160);
      expectGroundTruth(summary);
      expect(emulator.counters.chunksTranscribed).toBeGreaterThan(0);
    });
  }

  it('sends float32 16 kHz on the wire, in frames of chunkMs', async () => {
    const { emulator, recognizer } = await setup({}, { chunkMs: 100 });
    const { summary } = await play(recognizer.stream({ audio: formats[0]!.audio }), mulaw8k.data, 160);
    expectGroundTruth(summary);
    // 8 kHz mu-law (1 byte/sample) becomes 16 kHz float32 (4 bytes/sample): 8x the bytes, plus end padding
    const padBytes = emulator.counters.audioBytes - mulaw8k.data.length * 8;
    expect(padBytes).toBeGreaterThanOrEqual(0);
    expect(padBytes).toBeLessThan(emulator.chunkDurationMs * 64 + 64);
    expect(emulator.connectionsLog[0]!.audioMs).toBeGreaterThanOrEqual(truth.durationMs - 20);
  });

  it('drops Whisper stock hallucinations that the server says on silence', async () => {
    const { emulator, provider, recognizer } = await setup({ hallucinate: true });
    const { summary, events } = await play(recognizer.stream({ audio: formats[0]!.audio }), mulaw8k.data, 160);
    expectGroundTruth(summary);
    expect(emulator.counters.hallucinationsSent).toBeGreaterThan(0);
    expect(provider.stats.hallucinationsDropped).toBe(emulator.counters.hallucinationsSent);
    for (const e of events) expect(e.text).not.toMatch(/시청|구독|MBC|자막|watching/i);
  });

  it('keeps hallucinations when the list is emptied (the filter is what removes them)', async () => {
    const { emulator, recognizer } = await setup({ hallucinate: ['시청해 주셔서 감사합니다.'] }, { hallucinations: [] });
    const { summary } = await play(recognizer.stream({ audio: formats[0]!.audio }), mulaw8k.data, 160);
    expect(emulator.counters.hallucinationsSent).toBeGreaterThan(0);
    expect(summary.text).toContain('시청해 주셔서 감사합니다.');
  });

  it('drops any text of a chunk in which its endpointer heard no speech, listed or not', async () => {
    // 6 s of line noise before the call: three chunks of pure silence, on which the server says "you"
    const noise = mulaw8k.data.subarray(0, 600 * 8); // the call's first 600 ms: noise only
    const data = new Uint8Array(noise.length * 10 + mulaw8k.data.length);
    for (let i = 0; i < 10; i++) data.set(noise, i * noise.length);
    data.set(mulaw8k.data, noise.length * 10);
    const { emulator, provider, recognizer } = await setup({ hallucinate: ['you'] }, { hallucinations: [] });
    const { summary } = await play(recognizer.stream({ audio: formats[0]!.audio }), data, 160);
    expect(provider.stats.textWithoutSpeechDropped).toBeGreaterThanOrEqual(3);
    expect(summary.transcripts).toHaveLength(4); // no utterance made of silence
    expect(summary.transcripts.slice(0, 3).map((t) => t.text)).toEqual(script.slice(0, 3));
    // A stock word on a chunk that holds the last 100 ms of speech passes the energy gate and joins
    // that utterance: that is what the phrase list is for (see the hallucination tests above).
    expect(summary.transcripts[3]!.text).toMatch(/^모르겠어/);
    expect(emulator.counters.hallucinationsSent).toBeGreaterThanOrEqual(provider.stats.textWithoutSpeechDropped);
  });

  it('end() delivers the last final before resolving: it pads the last chunk with silence', async () => {
    const { emulator, provider, recognizer } = await setup({ latency: { processingMs: 150 } });
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    let lastFinal: Transcript | undefined;
    stream.on('final', (t) => {
      if (t.utteranceId === 3) lastFinal = t;
    });
    // stop right after the last word: neither the server's chunk nor the endpointer is complete
    for (const f of frames(mulaw8k.data.subarray(0, 9200 * 8), 160)) stream.write(f);
    const summary = await stream.end();
    expect(lastFinal?.text).toBe(script[3]);
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(stream.state).toBe('closed');
    expect(provider.stats.paddingMs).toBeGreaterThan(0);
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('finalize() closes the utterance and gets its final without more audio; later times stay stream-absolute', async () => {
    const { provider, recognizer } = await setup();
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    const finals: Transcript[] = [];
    stream.on('final', (t) => finals.push(t));
    // the first utterance ends at 2589 ms; the caller's VAD fires at 2900 ms, before our 500 ms EPD
    const cut = 2900 * 8;
    for (const f of frames(mulaw8k.data.subarray(0, cut), 160)) stream.write(f);
    stream.finalize();
    await new Promise<void>((r) => stream.once('final', () => r()));
    expect(finals[0]!.text).toBe(script[0]);
    expect(provider.stats.paddingMs).toBeGreaterThan(0); // silence the stream never wrote…
    for (const f of frames(mulaw8k.data.subarray(cut), 160)) stream.write(f);
    const summary = await stream.end();
    expectGroundTruth(summary); // …yet every time is where the caller's audio put it
  });

  it('respects the server message size limit: frames and padding are split under maxMessageBytes', async () => {
    const { emulator, recognizer } = await setup({ maxMessageBytes: 8192 }, { maxMessageBytes: 8192, chunkMs: 100 });
    const { summary } = await play(recognizer.stream({ audio: formats[0]!.audio }), mulaw8k.data, 160);
    expectGroundTruth(summary);
    expect(emulator.connectionsLog[0]!.closeCode).toBe(1000);
  });

  it('a frame over the server limit is a PROVIDER_ERROR naming the limit (close 1009)', async () => {
    const { recognizer } = await setup({ maxMessageBytes: 8192 }, { chunkMs: 200 }); // 12800-byte frames
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    const errors: string[] = [];
    stream.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    await writeCall(stream);
    const summary = await stream.end();
    expect(summary.error?.code).toBe('PROVIDER_ERROR');
    expect(errors[0]).toMatch(/1009/);
  });

  it('rejects a chunkMs whose frames cannot fit the message limit', () => {
    expect(() => new FasterWhisperProvider({ chunkMs: 20_000 })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    expect(() => new FasterWhisperProvider({ maxMessageBytes: 32_000, chunkMs: 1000 })).toThrowError(/chunkMs/);
    expect(() => new FasterWhisperProvider({ chunkDurationMs: 1000, overlapDurationMs: 1000 })).toThrowError(/overlapDurationMs/);
    expect(() => new FasterWhisperProvider({ url: 'http://x:8765' })).toThrowError(/ws: or wss:/);
  });
});

describe('FasterWhisperProvider failures', () => {
  it('a refused connection fails the stream with CONNECTION_FAILED', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.refuseConnections();
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    const summary = await stream.end();
    expect(summary.error?.code).toBe('CONNECTION_FAILED');
    expect(summary.error?.provider).toBe('faster-whisper');
  });

  it('a 401 from a proxy in front of the server is AUTH_FAILED', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.rejectConnections(401);
    const summary = await recognizer.stream({ audio: formats[0]!.audio }).end();
    expect(summary.error?.code).toBe('AUTH_FAILED');
  });

  it('a mid-stream drop is CONNECTION_LOST', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.dropAfterAudioMs(3000);
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    const errors: string[] = [];
    stream.on('error', (e) => errors.push(e.code));
    await writeCall(stream);
    const summary = await stream.end();
    expect(summary.error?.code).toBe('CONNECTION_LOST');
    expect(errors).toEqual(['CONNECTION_LOST']);
  });

  it('a malformed reply or an error reply is PROVIDER_ERROR', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.sendMalformed();
    const s1 = await recognizer.stream({ audio: formats[0]!.audio });
    await writeCall(s1);
    expect((await s1.end()).error?.code).toBe('PROVIDER_ERROR');
    emulator.faults.sendErrorReply();
    const s2 = recognizer.stream({ audio: formats[0]!.audio });
    await writeCall(s2);
    const sum2 = await s2.end();
    expect(sum2.error?.code).toBe('PROVIDER_ERROR');
    expect(sum2.error?.message).toMatch(/emulated transcription failure/);
  });

  it('end() is bounded when the server stops answering, and says the last words were not delivered', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.stall(true);
    const stream = recognizer.stream({ audio: formats[0]!.audio, endTimeoutMs: 300 });
    await writeCall(stream);
    const summary = await stream.end(); // resolves: bounded by endTimeoutMs (the test timeout would catch a hang)
    // speech was sent and never finalised: with no provider to fall back to, that is a TIMEOUT, not silence
    expect(summary.error?.code).toBe('TIMEOUT');
    expect(stream.state).toBe('failed');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('abort() closes the socket at once and emits only close', async () => {
    const { emulator, recognizer } = await setup();
    const stream = recognizer.stream({ audio: formats[0]!.audio });
    await new Promise<void>((r) => stream.once('open', () => r()));
    const after: string[] = [];
    for (const ev of ['partial', 'final', 'error'] as const) stream.on(ev, () => after.push(ev));
    const closed = new Promise<StreamSummary>((r) => stream.once('close', r));
    for (const f of frames(mulaw8k.data.subarray(0, 40_000), 160)) stream.write(f);
    stream.abort('caller hung up');
    expect((await closed).error?.code).toBe('ABORTED');
    expect(after).toEqual([]);
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('recognizer.close() aborts open streams and leaves no sockets', async () => {
    const { emulator, recognizer } = await setup();
    const s = recognizer.stream({ audio: formats[0]!.audio });
    await new Promise<void>((r) => s.once('open', () => r()));
    await recognizer.close();
    expect(s.state).toBe('closed');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('recognize() transcribes a WAV file in one call', async () => {
    const { recognizer } = await setup();
    const { readFileSync } = await import('node:fs');
    const summary = await recognizer.recognize(readFileSync(new URL('../examples/audio/call-ko-16k-linear16.wav', import.meta.url)));
    expectGroundTruth(summary);
  });
});
