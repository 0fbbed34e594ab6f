import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationError, GoogleProvider, StreamingRecognizer, type StreamSummary } from '../src/index.js';
import { startGoogleEmulator, type GoogleEmulator } from '../src/testing/index.js';
import { linear16k, script, truth, writeCall } from './helpers/sample-call.js';

let google: GoogleEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;
afterEach(async () => {
  await recognizer?.close();
  await google?.close();
  recognizer = undefined;
  google = undefined;
});

/** `reconnect: false`: the stream surfaces the provider's own error instead of recovering from it. */
async function call(
  options: ConstructorParameters<typeof GoogleProvider>[0],
  audio: 'mulaw' | 'linear16' = 'mulaw',
  reconnect?: false,
): Promise<StreamSummary> {
  recognizer = new StreamingRecognizer({ providers: [new GoogleProvider(options)], ...(reconnect === false ? { reconnect } : {}) });
  const stream = recognizer.stream(
    audio === 'mulaw' ? { audio: { encoding: 'mulaw', sampleRate: 8000 } } : { audio: { encoding: 'linear16', sampleRate: 16000 } },
  );
  if (audio === 'mulaw') await writeCall(stream);
  else await writeCall(stream, linear16k.data, 640);
  return stream.end();
}

describe('GoogleProvider (utterance mode)', () => {
  it('transcribes the sample call with an API key: one request per utterance, times from the endpointer', async () => {
    google = await startGoogleEmulator({ script });
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey });
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    summary.transcripts.forEach((t, i) => {
      expect(t.provider).toBe('google');
      expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
      expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
      expect(t.words?.map((w) => w.text).join(' ')).toBe(t.text);
      for (const w of t.words!) expect(w.startMs).toBeGreaterThanOrEqual(t.startMs - 1);
    });
    expect(google.counters.recognizeRequests).toBe(4);
  });

  it('sends MULAW untouched for mu-law input and LINEAR16 at the caller rate otherwise, with the documented config', async () => {
    google = await startGoogleEmulator({ script });
    await call({ endpoint: google.endpoint, apiKey: google.apiKey, model: 'telephony', useEnhanced: true });
    expect(google.requests[0]).toMatchObject({
      encoding: 'MULAW',
      sampleRateHertz: 8000,
      languageCode: 'ko-KR',
      model: 'telephony',
      useEnhanced: true,
      enableAutomaticPunctuation: true,
      maxAlternatives: 1,
      enableWordTimeOffsets: true,
    });
    await recognizer!.close();
    google.counters.recognizeRequests = 0;
    const s = await call({ endpoint: google.endpoint, apiKey: google.apiKey }, 'linear16');
    expect(s.transcripts).toHaveLength(4);
    expect(google.requests.at(-1)).toMatchObject({ encoding: 'LINEAR16', sampleRateHertz: 16000 });
  });

  it('authenticates with a service account: one RS256 JWT exchange, token cached across streams', async () => {
    google = await startGoogleEmulator({ script });
    const provider = new GoogleProvider({ endpoint: google.endpoint, credentials: google.serviceAccount });
    recognizer = new StreamingRecognizer({ providers: [provider] });
    for (let i = 0; i < 2; i++) {
      const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      await writeCall(s);
      expect((await s.end()).transcripts).toHaveLength(4);
    }
    expect(google.counters.tokenRequests).toBe(1);
  });

  it('reads the service account from GOOGLE_APPLICATION_CREDENTIALS', async () => {
    google = await startGoogleEmulator({ script });
    const dir = mkdtempSync(join(tmpdir(), 'stt-sa-'));
    const file = join(dir, 'key.json');
    writeFileSync(file, JSON.stringify(google.serviceAccount));
    const saved = { key: process.env.GOOGLE_API_KEY, creds: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    delete process.env.GOOGLE_API_KEY;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = file;
    try {
      const summary = await call({ endpoint: google.endpoint });
      expect(summary.transcripts).toHaveLength(4);
      expect(google.counters.tokenRequests).toBe(1);
    } finally {
      if (saved.creds === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.creds;
      if (saved.key !== undefined) process.env.GOOGLE_API_KEY = saved.key;
      rmSync(dir, { recursive: true });
    }
  });

  it('a token exchange that fails surfaces as AUTH_FAILED at connect', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.failToken();
    const summary = await call({ endpoint: google.endpoint, credentials: google.serviceAccount });
    expect(summary.error).toMatchObject({ code: 'AUTH_FAILED', status: 400 });
  });

  it('a wrong API key is AUTH_FAILED and is not retried', async () => {
    google = await startGoogleEmulator({ script });
    const summary = await call({ endpoint: google.endpoint, apiKey: 'wrong-key' });
    expect(summary.error).toMatchObject({ code: 'AUTH_FAILED', status: 401, providerCode: 'UNAUTHENTICATED' });
    expect(summary.error?.message).not.toContain('wrong-key');
    expect(google.counters.recognizeRequests).toBe(1);
  });

  it('429 and 503 are retried with backoff; 400 is not', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.failRecognize(429, 1);
    const a = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 });
    expect(a.transcripts.map((t) => t.text)).toEqual(script);
    await recognizer!.close();
    google.faults.failRecognize(503, 2);
    const b = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 });
    expect(b.error).toBeUndefined();
    await recognizer!.close();
    const before = google.counters.recognizeRequests;
    google.faults.failRecognize(400, 1);
    const c = await call({ endpoint: google.endpoint, apiKey: google.apiKey });
    expect(c.error).toMatchObject({ code: 'INVALID_CONFIG', status: 400, providerCode: 'INVALID_ARGUMENT' });
    expect(google.counters.recognizeRequests - before).toBeLessThanOrEqual(4);
  });

  it('a request that never answers times out, is retried, then fails the stream with TIMEOUT', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.hangRecognize(10);
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey, requestTimeoutMs: 200, retries: 1 }, 'mulaw', false);
    expect(summary.error?.code).toBe('TIMEOUT');
  });

  it('keeps at most maxConcurrentRequests requests in flight and still delivers finals in order', async () => {
    google = await startGoogleEmulator({ script, latency: { processingMs: 150 } });
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 2 });
    expect(google.counters.maxInFlight).toBe(2);
    // Delivered in utterance order (times), whatever order the requests finished in. Texts are
    // compared as a set: two concurrent requests reach the emulator in either order, and it hands
    // out script lines in arrival order.
    summary.transcripts.forEach((t, i) => {
      expect(t.utteranceId).toBe(i);
      expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    });
    expect(summary.transcripts.map((t) => t.text).sort()).toEqual([...script].sort());
  });

  it('fails with a retryable PROVIDER_ERROR instead of queueing without bound when Google stops answering', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.hangRecognize(10);
    const summary = await call({
      endpoint: google.endpoint,
      apiKey: google.apiKey,
      maxConcurrentRequests: 1,
      maxPendingUtterances: 2,
      requestTimeoutMs: 60_000,
    }, 'mulaw', false); // without reconnecting, the stream surfaces the provider's error
    expect(summary.error).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(summary.error?.message).toMatch(/maxPendingUtterances/);
    expect(google.counters.recognizeRequests).toBeLessThanOrEqual(1); // the rest never left the queue
  });

  it('splits an utterance longer than maxUtteranceMs into several requests', async () => {
    google = await startGoogleEmulator({ script: ['안녕 오늘', '일지 쓰려', ...script.slice(1)] });
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxUtteranceMs: 1000 });
    expect(google.counters.recognizeRequests).toBe(5);
    expect(summary.transcripts[0]!.endMs - summary.transcripts[0]!.startMs).toBeLessThanOrEqual(1000);
    expect(summary.transcripts[1]!.startMs).toBeGreaterThanOrEqual(summary.transcripts[0]!.endMs);
  });

  it('finalize() closes the utterance now', async () => {
    google = await startGoogleEmulator({ script });
    recognizer = new StreamingRecognizer({ providers: [new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey })] });
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const { frames, mulaw8k } = await import('./helpers/sample-call.js');
    for (const f of frames(mulaw8k.data.subarray(0, 2000 * 8), 160)) s.write(f);
    const final = new Promise<{ endMs: number }>((r) => s.once('final', r));
    s.finalize();
    expect((await final).endMs).toBeLessThanOrEqual(2001);
    await s.end();
  });

  it('validates its options', () => {
    const saved = { key: process.env.GOOGLE_API_KEY, creds: process.env.GOOGLE_APPLICATION_CREDENTIALS };
    delete process.env.GOOGLE_API_KEY;
    delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
    try {
      expect(() => new GoogleProvider()).toThrowError(/GOOGLE_API_KEY.*GOOGLE_APPLICATION_CREDENTIALS/);
      expect(() => new GoogleProvider({ apiKey: 'k', mode: 'bogus' as 'utterance' })).toThrow(ConfigurationError);
      expect(() => new GoogleProvider({ apiKey: 'k', maxAlternatives: 31 })).toThrow(ConfigurationError);
      expect(() => new GoogleProvider({ credentials: { client_email: 'a', private_key: 'nope' } })).toThrow(ConfigurationError);
    } finally {
      if (saved.key !== undefined) process.env.GOOGLE_API_KEY = saved.key;
      if (saved.creds !== undefined) process.env.GOOGLE_APPLICATION_CREDENTIALS = saved.creds;
    }
  });
});
