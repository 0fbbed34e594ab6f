/**
 * `GoogleProvider({ mode: 'streaming' })`: gRPC status → typed errors, the missing optional package,
 * options and auth wiring per version, 25 KB messages, probe(), and handles released on abort/close.
 */
import { inspect } from 'node:util';
import speech from '@google-cloud/speech';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, GoogleProvider, isSttError, type ProviderResult, type SttError } from '../src/index.js';
import { silentLogger } from '../src/logger.js';
import { GRPC_STATUS, grpcStatusError } from '../src/providers/google/streaming/errors.js';
import { RealtimePacer } from '../src/providers/google/streaming/pacer.js';
import { startGoogleStreamingEmulator, type GoogleGrpcStatusName, type GoogleStreamingEmulator } from '../src/testing/index.js';
import { linear16k, mulaw8k, frames } from './helpers/sample-call.js';
import { startRig, type GoogleStreamingRig } from './helpers/google-streaming.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
async function rig(...args: Parameters<typeof startRig>): Promise<GoogleStreamingRig> {
  const r = await startRig(...args);
  cleanups.push(() => r.close());
  return r;
}
async function emulator(): Promise<GoogleStreamingEmulator> {
  const e = await startGoogleStreamingEmulator({ script: ['안녕 오늘 일지 쓰려'] });
  cleanups.push(() => e.close());
  return e;
}
function provider(options: ConstructorParameters<typeof GoogleProvider>[0]): GoogleProvider {
  const p = new GoogleProvider(options);
  cleanups.push(() => p.close());
  return p;
}

describe('gRPC status → typed SttError', () => {
  it('maps every status: credentials and configuration are permanent, stream endings and overload retryable', () => {
    const expected: Record<string, [code: string, retryable: boolean]> = {
      CANCELLED: ['CONNECTION_LOST', true],
      UNKNOWN: ['PROVIDER_ERROR', true],
      INVALID_ARGUMENT: ['INVALID_CONFIG', false],
      DEADLINE_EXCEEDED: ['TIMEOUT', true],
      NOT_FOUND: ['INVALID_CONFIG', false],
      ALREADY_EXISTS: ['INVALID_CONFIG', false],
      PERMISSION_DENIED: ['AUTH_FAILED', false],
      RESOURCE_EXHAUSTED: ['RATE_LIMITED', true],
      FAILED_PRECONDITION: ['PROVIDER_ERROR', false],
      ABORTED: ['CONNECTION_LOST', true],
      OUT_OF_RANGE: ['CONNECTION_LOST', true],
      UNIMPLEMENTED: ['INVALID_CONFIG', false],
      INTERNAL: ['PROVIDER_ERROR', true],
      UNAVAILABLE: ['CONNECTION_LOST', true],
      DATA_LOSS: ['PROVIDER_ERROR', true],
      UNAUTHENTICATED: ['AUTH_FAILED', false],
    };
    GRPC_STATUS.forEach((name, code) => {
      if (code === 0) return;
      const err = grpcStatusError('google', code, 'details from the server');
      expect([err.code, err.retryable, err.providerCode], name).toEqual([...expected[name]!, name]);
      expect(err.message).toContain(name);
    });
    const limited = grpcStatusError('google', 8, 'quota', undefined, [{ retryDelay: { seconds: 30, nanos: 0 } }]);
    expect(limited.retryAfterMs).toBe(30_000);
  });

  it.each([
    ['UNAUTHENTICATED', 'AUTH_FAILED'],
    ['PERMISSION_DENIED', 'AUTH_FAILED'],
    ['INVALID_ARGUMENT', 'INVALID_CONFIG'],
    ['NOT_FOUND', 'INVALID_CONFIG'],
  ] as const)('a stream Google ends with %s (permanent) fails the single-provider stream with %s, not retried', async (status, code) => {
    const r = await rig('v1');
    r.emulator.faults.failStreams(status as GoogleGrpcStatusName, 10);
    const { stream } = r.stream();
    const reconnects: unknown[] = [];
    stream.on('reconnect', (e) => reconnects.push(e));
    for (const f of frames(mulaw8k.data.subarray(0, 8000), 160)) stream.write(f);
    const summary = await stream.end();
    expect(summary.error).toMatchObject({ code, retryable: false, provider: 'google', providerCode: status });
    expect(summary.error?.message).toMatch(new RegExp(`^Google StreamingRecognize failed: ${status}`));
    expect(reconnects).toEqual([]);
  });

  it.each([
    ['RESOURCE_EXHAUSTED', 'RATE_LIMITED'],
    ['DEADLINE_EXCEEDED', 'TIMEOUT'],
  ] as const)('a stream Google ends with %s (transient, %s) is retried on the single provider, and the call completes (spec §8)', async (status, code) => {
    const r = await rig('v1', { recognizer: { reconnect: { minDelayMs: 10, maxDelayMs: 50 } } });
    r.emulator.faults.failStreams(status as GoogleGrpcStatusName, 2);
    const { stream } = r.stream();
    const reasons: SttError[] = [];
    stream.on('reconnect', (e) => reasons.push(e.reason));
    for (const f of frames(mulaw8k.data.subarray(0, 8000 * 3), 160)) stream.write(f);
    const summary = await stream.end();
    expect(summary.error).toBeUndefined();
    expect(reasons.length).toBeGreaterThanOrEqual(2);
    for (const e of reasons.slice(0, 2)) expect(e).toMatchObject({ code, retryable: true, provider: 'google', providerCode: status });
    expect(summary.transcripts[0]?.text).toBe('안녕 오늘 일지 쓰려');
  });
});

describe('the optional package', () => {
  /** A loader for which `missing` is not installed (Node's own ERR_MODULE_NOT_FOUND). */
  const without = (missing: string) => (specifier: string) => import(specifier === missing ? `${missing}-not-installed` : specifier);

  it('missing @google-cloud/speech: ConfigurationError naming it and the install command, from connect (stream error) and warmup()', async () => {
    const p = provider({ mode: 'streaming', apiKey: 'k', moduleLoader: without('@google-cloud/speech') });
    const err = (await p.warmup().catch((e: unknown) => e)) as SttError;
    expect(err).toBeInstanceOf(ConfigurationError);
    expect(err.message).toMatch(/optional package @google-cloud\/speech, which is not installed: npm install @google-cloud\/speech@\^7/);
    const session = await p
      .connect({
        format: { encoding: 'linear16', sampleRate: 16000, channels: 1 },
        language: 'ko-KR',
        interimResults: true,
        signal: new AbortController().signal,
        logger: silentLogger,
        onResult: () => {},
        onError: () => {},
      })
      .catch((e: unknown) => e);
    expect(isSttError(session) && session.code).toBe('INVALID_CONFIG');
  });

  it('a plaintext endpoint also needs @grpc/grpc-js, and says so', async () => {
    const e = await emulator();
    const p = provider({ mode: 'streaming', endpoint: e.endpoint, moduleLoader: without('@grpc/grpc-js') });
    await expect(p.warmup()).rejects.toThrow(/optional package @grpc\/grpc-js/);
  });
});

describe('options and auth per version', () => {
  it('declares its capabilities and stream limits; v2 regional endpoint; chirp_3 without word timings', () => {
    const v1 = provider({ mode: 'streaming', apiKey: 'k' });
    expect(v1.capabilities).toMatchObject({ streaming: true, interimResults: true, wordTimings: true, serverEndpointing: true, encodings: ['linear16', 'mulaw'] });
    expect([v1.maxStreamMs, v1.rotateAfterMs]).toEqual([290_000, 230_000]);
    const chirp = provider({ mode: 'streaming', version: 'v2', projectId: 'p', location: 'asia-northeast1', model: 'chirp_3', maxStreamMs: 20_000 });
    expect(chirp.capabilities).toMatchObject({ wordTimings: false, encodings: ['linear16', 'mulaw', 'alaw'] });
    expect([chirp.maxStreamMs, chirp.rotateAfterMs]).toEqual([20_000, 10_000]);
    const rest = provider({ apiKey: 'k' });
    expect(rest.capabilities.streaming).toBe(false);
    expect(rest.maxStreamMs).toBeUndefined();
  });

  it('rejects invalid streaming options, and streaming-only options in utterance mode', () => {
    const bad: ConstructorParameters<typeof GoogleProvider>[0][] = [
      { mode: 'streaming', apiKey: 'k', version: 'v3' as 'v1' },
      { mode: 'streaming', endpoint: 'http://127.0.0.1:1', version: 'v2' }, // v2 without a project
      { mode: 'streaming', apiKey: 'k', recognizer: 'projects/p/locations/global/recognizers/_' }, // recognizer needs v2
      { mode: 'streaming', apiKey: 'k', version: 'v2', projectId: 'p', recognizer: 'nope' },
      { mode: 'streaming', apiKey: 'k', version: 'v2', recognizer: 'projects/p/locations/us/recognizers/_', location: 'eu' },
      { mode: 'streaming', apiKey: 'k', endpoint: 'https://speech.googleapis.com/v1' },
      { mode: 'streaming', apiKey: 'k', maxStreamMs: 10_000, rotateAfterMs: 20_000 },
      { mode: 'streaming', apiKey: 'k', streamBurstMs: Number.NaN },
      { mode: 'streaming', credentials: { client_email: 'a', private_key: 'nope' } },
      { apiKey: 'k', version: 'v2' },
      { apiKey: 'k', maxStreamMs: 1000 },
    ];
    for (const o of bad) expect(() => new GoogleProvider(o), JSON.stringify(o)).toThrow(ConfigurationError);
  });

  it('util.inspect() and JSON.stringify() of a streaming provider show no credentials, also once its client exists', async () => {
    const key = { client_email: 'sa@demo.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nSECRETPEM\n-----END PRIVATE KEY-----\n' };
    for (const o of [{ apiKey: 'SECRET-API-KEY' }, { credentials: key }]) {
      const p = provider({ mode: 'streaming', endpoint: 'https://127.0.0.1:9', connectTimeoutMs: 5000, ...o });
      await p.warmup().catch(() => undefined); // builds the SpeechClient, then fails to connect or authorize
      for (const text of [inspect(p, { depth: Infinity, showHidden: true }), JSON.stringify(p)]) {
        expect(text).not.toContain('SECRET');
      }
    }
  });

  it("hands Google's client the credentials per auth kind: API key (x-goog-api-key), service account, ADC; plaintext has none", async () => {
    const seen: Record<string, unknown>[] = [];
    /** `@google-cloud/speech` whose clients record their options, then refuse to be built. */
    const recording = async (specifier: string): Promise<unknown> => {
      if (specifier !== '@google-cloud/speech') return import(specifier);
      class Refusing {
        constructor(o: Record<string, unknown>) {
          seen.push(o);
          throw new Error('recorded');
        }
      }
      return { v1: { SpeechClient: Refusing }, v2: { SpeechClient: Refusing } };
    };
    const key = { client_email: 'sa@demo.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n', project_id: 'demo' };
    const e = await emulator();
    const saved = process.env.GOOGLE_API_KEY;
    delete process.env.GOOGLE_API_KEY;
    try {
      for (const o of [
        { apiKey: 'the-key' },
        { credentials: key, version: 'v2' as const, location: 'asia-northeast1' },
        {},
        { endpoint: e.endpoint, apiKey: 'ignored' },
      ]) {
        await expect(provider({ mode: 'streaming', moduleLoader: recording, ...o }).warmup()).rejects.toThrow(/rejected its options: recorded/);
      }
    } finally {
      if (saved !== undefined) process.env.GOOGLE_API_KEY = saved;
    }
    const [apiKey, sa, adc, plaintext] = seen as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    expect(apiKey).toMatchObject({ apiKey: 'the-key', servicePath: 'speech.googleapis.com', port: 443 });
    expect(apiKey).not.toHaveProperty('credentials');
    expect(sa).toMatchObject({ credentials: { client_email: key.client_email }, projectId: 'demo', servicePath: 'asia-northeast1-speech.googleapis.com' });
    expect(adc).not.toHaveProperty('apiKey');
    expect(adc).not.toHaveProperty('credentials');
    expect(plaintext).toMatchObject({ servicePath: '127.0.0.1', port: e.port, sslCreds: expect.anything() });
    expect(plaintext).not.toHaveProperty('apiKey');
    // Google's own client turns the API key option into the x-goog-api-key header, with no network.
    const client = new speech.v1.SpeechClient(apiKey as ConstructorParameters<typeof speech.v1.SpeechClient>[0]);
    cleanups.push(() => client.close());
    const headers = (await client.auth.getRequestHeaders()) as unknown as Headers;
    expect(headers.get('x-goog-api-key')).toBe('the-key');
  });
});

describe('the session on the wire', () => {
  it('splits a large write into requests of at most 25 KB (the emulator rejects bigger ones)', async () => {
    const e = await emulator();
    const p = provider({ mode: 'streaming', endpoint: e.endpoint });
    const results: ProviderResult[] = [];
    const errors: SttError[] = [];
    const session = await p.connect({
      format: { encoding: 'linear16', sampleRate: 16000, channels: 1 },
      language: 'ko-KR',
      interimResults: true,
      signal: new AbortController().signal,
      logger: silentLogger,
      onResult: (r) => results.push(r),
      onError: (err) => errors.push(err),
    });
    const twoSeconds = linear16k.data.subarray(0, 64_000);
    let sent = false;
    session.send(twoSeconds, () => (sent = true));
    expect(await session.end(5000)).toBe('closed');
    expect(sent).toBe(true);
    expect(errors).toEqual([]);
    expect(e.counters.messages).toBe(1 + Math.ceil(64_000 / 25_000));
    expect(e.counters.audioBytes).toBe(64_000);
    expect(results.filter((r) => r.type === 'final').map((r) => r.text)).toEqual(['안녕 오늘 일지 쓰려']);
  });

  it('probe(): a real stream with silence; typed errors for a rejected stream and an unreachable endpoint', async () => {
    const e = await emulator();
    const p = provider({ mode: 'streaming', endpoint: e.endpoint });
    await p.probe(new AbortController().signal);
    expect(e.streamsLog.at(-1)).toMatchObject({ status: 'OK', audioMs: 100 });
    e.faults.failStreams('UNAUTHENTICATED');
    await expect(p.probe(new AbortController().signal)).rejects.toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    const dead = provider({ mode: 'streaming', endpoint: 'http://127.0.0.1:9', connectTimeoutMs: 5000 });
    await expect(dead.probe(new AbortController().signal)).rejects.toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
  });

  it('abort() cancels the gRPC call at once; recognizer.close() closes the channel (no socket left)', async () => {
    const sockets = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const r = await rig('v1');
    const { stream } = r.stream();
    const partial = new Promise<void>((resolve) => stream.once('partial', () => resolve()));
    for (const f of frames(mulaw8k.data.subarray(0, 16_000), 160)) stream.write(f);
    await partial;
    expect(r.emulator.counters.openStreams).toBe(1);
    stream.abort();
    await vi.waitFor(() => expect(r.emulator.streamsLog).toEqual([expect.objectContaining({ status: 'CANCELLED' })]), { interval: 20 });
    expect(r.emulator.counters.openStreams).toBe(0);
    await r.recognizer.close();
    await vi.waitFor(() => expect(sockets()).toBe(before), { interval: 20 });
  });
});

describe('RealtimePacer (per gRPC stream, injected clock)', () => {
  it('lets a burst go at once, then one audio ms per wall ms', () => {
    const p = new RealtimePacer(3000, 0);
    for (let i = 0; i < 30; i++) expect(p.take(100, 0)).toBe(0); // 3 s burst at t=0
    expect(p.take(100, 0)).toBe(100); // the 31st frame waits 100 ms
    expect(p.take(100, 50)).toBe(50);
    expect(p.take(100, 100)).toBe(0);
    let sent = 0;
    for (let t = 100; t <= 10_100; t += 20) while (p.take(20, t) === 0) sent += 20;
    expect(sent).toBe(10_000); // real time after the burst
  });

  it('refills up to the burst only, and a chunk longer than the bucket goes when it is full', () => {
    const p = new RealtimePacer(1000, 0);
    expect(p.take(1000, 0)).toBe(0);
    expect(p.take(100, 60_000)).toBe(0); // a long idle does not bank more than the burst
    expect(p.take(1000, 60_000)).toBe(100);
    const q = new RealtimePacer(500, 0);
    expect(q.take(800, 0)).toBe(0); // bucket full: goes, and the next waits for the debt
    expect(q.take(100, 0)).toBe(400);
    expect(q.take(100, 400)).toBe(0);
    expect(q.take(100, 300)).toBeGreaterThan(0); // a clock that goes back grants nothing
  });
});
