import { afterEach, describe, expect, it } from 'vitest';
import {
  RateLimitError,
  ProviderError,
  StreamingRecognizer,
  WhisperLiveProvider,
  type StreamSummary,
  type Transcript,
  type WhisperLiveProviderOptions,
} from '../src/index.js';
import { startWhisperLiveEmulator, type WhisperLiveEmulator, type WhisperLiveEmulatorOptions } from '../src/testing/index.js';
import { collectingRequest, sendFloat32 } from './helpers/provider-session.js';
import { frames, linear16k, mulaw8k, script, truth, writeCall } from './helpers/sample-call.js';

let emulator: WhisperLiveEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

async function setup(
  emu: WhisperLiveEmulatorOptions = {},
  opts: WhisperLiveProviderOptions = {},
): Promise<{ emulator: WhisperLiveEmulator; provider: WhisperLiveProvider; recognizer: StreamingRecognizer }> {
  emulator = await startWhisperLiveEmulator({ script, ...emu });
  const provider = new WhisperLiveProvider({ url: emulator.url, endSettleMs: 300, ...opts });
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

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

const formats = [
  { name: 'mu-law 8 kHz', audio: MULAW, data: mulaw8k.data, frameBytes: 160 },
  { name: 'LINEAR16 16 kHz', audio: { encoding: 'linear16', sampleRate: 16000 } as const, data: linear16k.data, frameBytes: 640 },
];

function expectGroundTruth(summary: StreamSummary): void {
  expect(summary.error).toBeUndefined();
  expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  summary.transcripts.forEach((t, i) => {
    expect(t.utteranceId).toBe(i);
    expect(t.provider).toBe('whisperlive');
    expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
  });
}

describe('WhisperLiveProvider through StreamingRecognizer', () => {
  for (const f of formats) {
    it(`turns the sample call (${f.name}) into its 4 ground-truth finals, exactly once, in order`, async () => {
      const { emulator, provider, recognizer } = await setup();
      const stream = recognizer.stream({ audio: f.audio });
      const events: { type: string; id: number; text: string }[] = [];
      stream.on('partial', (t) => events.push({ type: 'partial', id: t.utteranceId, text: t.text }));
      stream.on('final', (t) => events.push({ type: 'final', id: t.utteranceId, text: t.text }));
      await writeCall(stream, f.data, f.frameBytes);
      const summary = await stream.end();
      expectGroundTruth(summary);
      // every update re-sent the committed segments; none became a second final
      expect(emulator.counters.segmentsResent).toBeGreaterThan(0);
      expect(provider.stats.segmentsResent).toBe(emulator.counters.segmentsResent);
      expect(events.filter((e) => e.type === 'final')).toHaveLength(4);
      for (const [k, e] of events.entries()) {
        if (e.type !== 'partial') continue;
        expect(script[e.id]!.startsWith(e.text)).toBe(true);
        expect(k).toBeLessThan(events.findIndex((x) => x.type === 'final' && x.id === e.id));
      }
      expect(emulator.counters.endOfAudioReceived).toBe(1);
      await expect.poll(() => emulator.counters.openConnections).toBe(0);
    });
  }

  it('sends the options message with the stream language and the optional fields', async () => {
    const { emulator, recognizer } = await setup(
      {},
      {
        model: 'large-v3',
        initialPrompt: '상담 전화',
        hotwords: ['일지', '예약'],
        sendLastNSegments: 3,
        noSpeechThreshold: 0.5,
        sameOutputThreshold: 5,
        vadParameters: { threshold: 0.4 },
      },
    );
    const stream = recognizer.stream({ audio: MULAW });
    await writeCall(stream);
    expectGroundTruth(await stream.end());
    const options = emulator.connectionsLog[0]!.options!;
    expect(options).toMatchObject({
      language: 'ko',
      task: 'transcribe',
      model: 'large-v3',
      use_vad: true,
      initial_prompt: '상담 전화',
      hotwords: '일지,예약',
      send_last_n_segments: 3,
      no_speech_thresh: 0.5,
      same_output_threshold: 5,
      vad_parameters: { threshold: 0.4 },
      audio_format: 'float32',
    });
    expect(options.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('language: null lets the server detect it, and transcripts carry the detected language', async () => {
    const { emulator, recognizer } = await setup({}, { language: null });
    const stream = recognizer.stream({ audio: MULAW, language: 'en-US' });
    await writeCall(stream);
    const summary = await stream.end();
    expect(emulator.connectionsLog[0]!.options!.language).toBeNull();
    expect(summary.transcripts.map((t) => t.language)).toEqual(['ko', 'ko', 'ko', 'ko']);
  });

  it('word timestamps become stream-absolute words of the finals', async () => {
    const { recognizer } = await setup({}, { wordTimestamps: true });
    const stream = recognizer.stream({ audio: MULAW });
    await writeCall(stream);
    const summary = await stream.end();
    expectGroundTruth(summary);
    for (const t of summary.transcripts) {
      expect(t.words!.map((w) => w.text).join(' ')).toBe(t.text);
      for (const w of t.words!) {
        expect(w.startMs).toBeGreaterThanOrEqual(t.startMs - 1);
        expect(w.endMs).toBeLessThanOrEqual(t.endMs + 1);
      }
    }
  });

  it('end() delivers the last final before resolving, even when the call stops mid-sentence', async () => {
    const { emulator, recognizer } = await setup({ latency: { processingMs: 100 } });
    const stream = recognizer.stream({ audio: MULAW });
    let last: Transcript | undefined;
    stream.on('final', (t) => {
      if (t.utteranceId === 3) last = t;
    });
    for (const f of frames(mulaw8k.data.subarray(0, 9200 * 8), 160)) stream.write(f);
    const summary = await stream.end();
    expect(last?.text).toBe(script[3]);
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(emulator.counters.endOfAudioReceived).toBe(1);
  });

  it('without padding, a server that transcribes only new audio never covers the last word: end() says timeout, no guess', async () => {
    const { emulator, provider } = await setup({}, { endPaddingMs: 0 });
    const { request, results, errors } = collectingRequest();
    const session = await provider.connect(request);
    sendFloat32(session, 9050); // the call cut in the middle of its last word
    await expect.poll(() => results.filter((r) => r.type === 'partial' && r.segment === 3).length).toBeGreaterThan(0);
    expect(await session.end(800)).toBe('timeout');
    // the in-progress "모르…" was never passed off as a final, and END_OF_AUDIO was never sent
    expect(results.filter((r) => r.type === 'final').map((r) => r.text)).toEqual(script.slice(0, 3));
    expect(emulator.counters.endOfAudioReceived).toBe(0);
    expect(errors).toEqual([]);
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('with a server that flushes on END_OF_AUDIO, the end is the same: everything is committed before it', async () => {
    const { emulator, recognizer } = await setup({ flushOnEndOfAudio: true });
    const stream = recognizer.stream({ audio: MULAW });
    for (const f of frames(mulaw8k.data.subarray(0, 9200 * 8), 160)) stream.write(f);
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(emulator.counters.segmentsCompleted).toBe(4);
    expect(emulator.counters.endOfAudioReceived).toBe(1);
  });

  it('speech the server never transcribes (its VAD drops it) does not hold end() up: END_OF_AUDIO after a quiet pass', async () => {
    // the server's own loop; the last "utterance" is noise its VAD drops (an empty script line), and
    // the one before it is force-committed after two identical passes
    const { emulator, provider } = await setup(
      { script: [...script.slice(0, 3), ''], modelPassMs: 300 },
      { endSettleMs: 200, sameOutputThreshold: 1 },
    );
    const { request, results } = collectingRequest();
    const session = await provider.connect(request);
    sendFloat32(session, truth.durationMs);
    expect(await session.end(10_000)).toBe('closed');
    expect(results.filter((r) => r.type === 'final').map((r) => r.text)).toEqual(script.slice(0, 3));
    expect(emulator.counters.endOfAudioReceived).toBe(1);
    expect(provider.stats.pendingDelivered).toBe(0); // committed by the server, not taken from a partial
  });

  it('a server that stalls after the last commit: end() says timeout, END_OF_AUDIO is never sent, nothing is guessed', async () => {
    const { emulator, provider } = await setup({}, { endSettleMs: 200 });
    const { request, results, errors } = collectingRequest();
    const session = await provider.connect(request);
    sendFloat32(session, 8100); // utterances 0-2, and silence after (committed at the 8 s update)
    await expect.poll(() => results.filter((r) => r.type === 'final').length).toBe(3);
    emulator.faults.stall(true); // pings still answered, no update any more
    sendFloat32(session, truth.durationMs, 8100); // utterance 3
    expect(await session.end(1500)).toBe('timeout');
    expect(results.filter((r) => r.type === 'final').map((r) => r.text)).toEqual(script.slice(0, 3));
    expect(emulator.counters.endOfAudioReceived).toBe(0);
    expect(errors).toEqual([]);
  });

  it('an API key goes in the Authorization header; without it the handshake is AUTH_FAILED', async () => {
    const { emulator } = await setup({ apiKey: 's3cret-key' });
    const bad = new StreamingRecognizer({ providers: [new WhisperLiveProvider({ url: emulator.url })] });
    const s1 = bad.stream({ audio: MULAW });
    const sum1 = await s1.end();
    await bad.close();
    expect(sum1.error?.code).toBe('AUTH_FAILED');
    expect(sum1.error?.status).toBe(401);

    const good = new StreamingRecognizer({ providers: [new WhisperLiveProvider({ url: emulator.url, apiKey: 's3cret-key', endSettleMs: 300 })] });
    const wrong = new StreamingRecognizer({ providers: [new WhisperLiveProvider({ url: emulator.url, apiKey: 'wrong-key' })] });
    const s2 = good.stream({ audio: MULAW });
    await writeCall(s2);
    expectGroundTruth(await s2.end());
    const sum3 = await wrong.stream({ audio: MULAW }).end();
    await good.close();
    await wrong.close();
    expect(emulator.connectionsLog.at(-1)!.authorization).toBe(true);
    expect(sum3.error?.code).toBe('AUTH_FAILED');
    expect(sum3.error?.message).not.toContain('wrong-key');
  });
});

describe('WhisperLiveProvider: WAIT, ERROR and other failures', () => {
  it('WAIT (server full) fails the stream with a retryable RateLimitError, so fallback can take over', async () => {
    const { emulator, recognizer, provider } = await setup({ maxClients: 1 });
    const first = recognizer.stream({ audio: MULAW });
    await new Promise<void>((r) => first.once('open', () => r()));
    const second = recognizer.stream({ audio: MULAW });
    const errors: unknown[] = [];
    second.on('error', (e) => errors.push(e));
    const summary = await second.end();
    expect(summary.error?.code).toBe('RATE_LIMITED');
    expect(summary.error).toBeInstanceOf(RateLimitError);
    expect(summary.error?.retryable).toBe(true);
    expect(errors).toHaveLength(1);
    expect(emulator.counters.waitsSent).toBe(1);
    expect(provider.stats.waits).toBe(1);
    // the first call is unaffected
    await writeCall(first);
    expectGroundTruth(await first.end());
  });

  it('ERROR while loading the model fails the stream with a ProviderError carrying the message', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.failModelLoad();
    const summary = await recognizer.stream({ audio: MULAW }).end();
    expect(summary.error).toBeInstanceOf(ProviderError);
    expect(summary.error?.code).toBe('PROVIDER_ERROR');
    expect(summary.error?.message).toMatch(/Failed to load model/);
    expect(summary.error?.retryable).toBe(false);
  });

  it('ERROR during the session fails the stream with PROVIDER_ERROR', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.sendError();
    const stream = recognizer.stream({ audio: MULAW });
    await writeCall(stream);
    const summary = await stream.end();
    expect(summary.error?.code).toBe('PROVIDER_ERROR');
    expect(summary.error?.message).toMatch(/emulated transcription failure/);
  });

  it('no SERVER_READY within readyTimeoutMs is a TIMEOUT', async () => {
    const { emulator, recognizer } = await setup({}, { readyTimeoutMs: 200 });
    emulator.faults.neverReady();
    const summary = await recognizer.stream({ audio: MULAW }).end();
    expect(summary.error?.code).toBe('TIMEOUT');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('DISCONNECT (max_connection_time) is CONNECTION_LOST', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.disconnectAfterAudioMs(3000);
    const stream = recognizer.stream({ audio: MULAW });
    await writeCall(stream);
    const summary = await stream.end();
    expect(summary.error?.code).toBe('CONNECTION_LOST');
    expect(summary.error?.message).toMatch(/DISCONNECT/);
    expect(emulator.counters.disconnectsSent).toBe(1);
  });

  it('a drop is CONNECTION_LOST; a malformed update is PROVIDER_ERROR; a refused connection is CONNECTION_FAILED', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.dropAfterAudioMs(2000);
    const s1 = recognizer.stream({ audio: MULAW });
    await writeCall(s1);
    expect((await s1.end()).error?.code).toBe('CONNECTION_LOST');
    emulator.faults.sendMalformed();
    const s2 = recognizer.stream({ audio: MULAW });
    await writeCall(s2);
    expect((await s2.end()).error?.code).toBe('PROVIDER_ERROR');
    emulator.faults.refuseConnections();
    expect((await recognizer.stream({ audio: MULAW }).end()).error?.code).toBe('CONNECTION_FAILED');
  });

  it('abort() during the wait for SERVER_READY and during the call leaves nothing open', async () => {
    const { emulator, recognizer } = await setup({ latency: { readyMs: 5000 } });
    const s1 = recognizer.stream({ audio: MULAW });
    await expect.poll(() => emulator.counters.connections).toBe(1);
    s1.abort();
    expect(s1.state).toBe('closed');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);

    emulator.setLatency({ readyMs: 0 });
    const s2 = recognizer.stream({ audio: MULAW });
    await new Promise<void>((r) => s2.once('open', () => r()));
    const after: string[] = [];
    s2.on('final', () => after.push('final'));
    for (const f of frames(mulaw8k.data.subarray(0, 30_000), 160)) s2.write(f);
    s2.abort('caller hung up');
    expect(after).toEqual([]);
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('rejects invalid options with INVALID_CONFIG', () => {
    expect(() => new WhisperLiveProvider({ url: 'http://x' })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    expect(() => new WhisperLiveProvider({ language: 'ko-KR' })).toThrowError(/ISO 639-1/);
    expect(() => new WhisperLiveProvider({ noSpeechThreshold: 2 })).toThrowError(/noSpeechThreshold/);
    expect(() => new WhisperLiveProvider({ apiKey: '' })).toThrowError(/apiKey/);
  });
});
