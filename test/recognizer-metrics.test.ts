import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import {
  diagnosticsChannels,
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  type ConnectDiagnostic,
  type Logger,
  type UtteranceMetrics,
} from '../src/index.js';
import { LatencyHistogram } from '../src/recognizer/latency-histogram.js';
import {
  ScriptCursor,
  startGoogleEmulator,
  startRtzrEmulator,
  type GoogleEmulator,
  type RtzrEmulator,
} from '../src/testing/index.js';
import { frames, mulaw8k, script, writeCall } from './helpers/sample-call.js';

let emulator: RtzrEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;
let google: GoogleEmulator | undefined;

afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  await google?.close();
  recognizer = undefined;
  emulator = undefined;
  google = undefined;
});

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

async function setup(provider: ConstructorParameters<typeof RtzrProvider>[0] = {}, logger?: Logger) {
  emulator = await startRtzrEmulator({ script, latency: { authMs: 30, connectMs: 30 } });
  const p = new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    ...provider,
  });
  recognizer = new StreamingRecognizer({ providers: [p], ...(logger ? { logger } : {}) });
  return { emulator, recognizer, provider: p };
}

/** Nearest-rank percentile of exact values. */
function exactPercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The emulator's access tokens are JWTs: three base64url parts, the first starting with `eyJ`. */
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe('recognizer.metrics()', () => {
  it('is all zeros before any stream', async () => {
    const { recognizer } = await setup();
    const m = recognizer.metrics();
    expect(m.streams).toEqual({ started: 0, open: 0, closed: 0, failed: 0, aborted: 0 });
    expect(m.utterances).toBe(0);
    expect(m.finalLatencyMs).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0, p99: 0 });
    expect(m.providers).toEqual({});
  });

  it('aggregates exactly what the streams emitted', async () => {
    const { recognizer } = await setup();
    const emitted: UtteranceMetrics[] = [];
    for (let call = 0; call < 2; call++) {
      const s = recognizer.stream({ audio: MULAW });
      s.on('metrics', (m) => emitted.push(m));
      await writeCall(s);
      await s.end();
    }
    // one aborted call, readable while it is open
    const aborted = recognizer.stream({ audio: MULAW });
    await new Promise<void>((r) => aborted.once('open', () => r()));
    expect(recognizer.metrics().streams).toMatchObject({ started: 3, open: 1 });
    aborted.abort('hang up');

    const m = recognizer.metrics();
    expect(emitted).toHaveLength(8);
    expect(m.streams).toEqual({ started: 3, open: 0, closed: 2, failed: 0, aborted: 1 });
    expect(m.utterances).toBe(8);
    const lat = emitted.map((e) => e.finalLatencyMs);
    expect(m.finalLatencyMs.count).toBe(8);
    expect(m.finalLatencyMs.min).toBe(Math.min(...lat));
    expect(m.finalLatencyMs.max).toBe(Math.max(...lat));
    expect(m.finalLatencyMs.mean).toBeCloseTo(lat.reduce((a, b) => a + b, 0) / lat.length, 0);
    for (const p of [50, 95, 99] as const) {
      const exact = exactPercentile(lat, p);
      // exact below 128 ms, within 1/128 above
      expect(Math.abs(m.finalLatencyMs[`p${p}`] - exact)).toBeLessThanOrEqual(Math.ceil(exact / 128));
    }
    const firsts = emitted.filter((e) => !e.connectionReused);
    expect(m.connections.count).toBe(2);
    expect(m.connections.tokenFetched).toBe(firsts.filter((e) => !e.tokenCached).length);
    expect(m.connections.tokenFetched).toBe(1);
    expect(m.connections.prewarmed).toBe(0);
    expect(m.connections.tokenMs.max).toBe(Math.max(...firsts.map((e) => e.tokenMs)));
    expect(m.connections.connectMs.max).toBe(Math.max(...firsts.map((e) => e.connectMs)));
    expect(m.connections.connectMs.min).toBe(Math.min(...firsts.map((e) => e.connectMs)));
    expect(m.providers.rtzr).toMatchObject({ utterances: 8, reconnects: 0, fallbacksFrom: 0, fallbacksTo: 0 });
    expect(m.providers.rtzr!.finalLatencyMs.count).toBe(8);
    expect(m.reconnects).toBe(0);
    expect(m.fallbacks).toBe(0);
    expect(m.firstPartialMs.count).toBe(emitted.filter((e) => e.firstPartialMs !== undefined).length);
  });

  it('counts pre-warmed connections and failed streams', async () => {
    const { emulator, recognizer } = await setup({ prewarm: 1 });
    await recognizer.warmup();
    const s = recognizer.stream({ audio: MULAW });
    for (const f of frames(mulaw8k.data.subarray(0, 3200 * 8), 160)) s.write(f);
    await s.end();
    emulator.faults.rejectConnections(401, 2);
    // no pool for this format: a handshake, rejected 401 twice (the token refresh does not help: the
    // credentials are rejected, a permanent failure, and no fallback is left: the stream fails)
    const bad = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    await new Promise((r) => bad.once('close', r));
    const m = recognizer.metrics();
    expect(m.connections).toMatchObject({ count: 1, prewarmed: 1, tokenFetched: 0 });
    expect(m.connections.connectMs.max).toBe(0);
    expect(m.streams).toMatchObject({ started: 2, closed: 1, failed: 1 });
  });

  it('counts reconnect and fallback events and publishes them on diagnostics_channel', async () => {
    // A real outage: RTZR drops the call twice (one reconnect each), then fails for good, and
    // Google takes over with the audio not yet final.
    const cursor = new ScriptCursor(script);
    emulator = await startRtzrEmulator({ script: cursor });
    google = await startGoogleEmulator({ script: cursor });
    recognizer = new StreamingRecognizer({
      providers: [
        new RtzrProvider({ apiBase: emulator.apiBase, ...emulator.credentials }),
        new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 }),
      ],
      reconnect: { retries: 1, minDelayMs: 5, maxDelayMs: 10 },
    });
    emulator.faults.dropAfterAudioMs(4400, 10);
    const reconnects: { provider: string; attempt: number; reason: { code: string } }[] = [];
    const fallbacks: { from: string; to: string; replayedMs: number; reason: { code: string; message: string } }[] = [];
    const onReconnect = (msg: unknown) => reconnects.push(msg as (typeof reconnects)[number]);
    const onFallback = (msg: unknown) => fallbacks.push(msg as (typeof fallbacks)[number]);
    diagnosticsChannel.subscribe(diagnosticsChannels.reconnect, onReconnect);
    diagnosticsChannel.subscribe(diagnosticsChannels.fallback, onFallback);
    let summary;
    try {
      const s = recognizer.stream({ audio: MULAW });
      await writeCall(s);
      summary = await s.end();
    } finally {
      diagnosticsChannel.unsubscribe(diagnosticsChannels.reconnect, onReconnect);
      diagnosticsChannel.unsubscribe(diagnosticsChannels.fallback, onFallback);
    }
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    const m = recognizer.metrics();
    expect(m.reconnects).toBe(summary.reconnects);
    expect(m.fallbacks).toBe(1);
    expect(m.providers.rtzr).toMatchObject({ reconnects: summary.reconnects, fallbacksFrom: 1 });
    expect(m.providers.google).toMatchObject({ fallbacksTo: 1 });
    expect(m.providers.google!.utterances).toBeGreaterThan(0);
    expect(reconnects.length).toBe(summary.reconnects);
    expect(reconnects[0]).toMatchObject({ provider: 'rtzr', attempt: 1, reason: { code: 'CONNECTION_LOST' } });
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatchObject({ from: 'rtzr', to: 'google', reason: { code: 'CONNECTION_LOST' } });
    expect(fallbacks[0]!.replayedMs).toBeGreaterThan(0);
  });
});

describe('diagnostics_channel and debug logs', () => {
  it('publish token fetches and handshakes (stream, pool, pre-warmed hand-over) without tokens or secrets', async () => {
    const seen: { channel: string; msg: unknown }[] = [];
    const subs = [diagnosticsChannels.connect, diagnosticsChannels.token].map((name) => {
      const fn = (msg: unknown) => seen.push({ channel: name, msg });
      diagnosticsChannel.subscribe(name, fn);
      return () => diagnosticsChannel.unsubscribe(name, fn);
    });
    const logs: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
    const logger: Logger = {
      debug: (message, fields) => logs.push({ level: 'debug', message, fields }),
      info: (message, fields) => logs.push({ level: 'info', message, fields }),
      warn: (message, fields) => logs.push({ level: 'warn', message, fields }),
      error: (message, fields) => logs.push({ level: 'error', message, fields }),
    };
    try {
      const { emulator, recognizer } = await setup({ prewarm: 1 }, logger);
      await recognizer.warmup();
      const s1 = recognizer.stream({ audio: MULAW }); // served by the pool
      const s2 = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } }); // handshake
      await Promise.all([s1, s2].map((s) => new Promise<void>((r) => s.once('open', () => r()))));
      emulator.faults.rejectConnections(429, 1);
      const s3 = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
      await new Promise((r) => s3.once('reconnect', r)); // the 429 is retried
      await Promise.all([s1.end(), s2.end(), s3.end()]);

      const tokens = seen.filter((x) => x.channel === diagnosticsChannels.token).map((x) => x.msg);
      expect(tokens).toEqual([{ provider: 'rtzr', ok: true, durationMs: expect.any(Number), expiresInMs: expect.any(Number) }]);
      const connects = seen.filter((x) => x.channel === diagnosticsChannels.connect).map((x) => x.msg as ConnectDiagnostic);
      expect(connects).toContainEqual(
        expect.objectContaining({ kind: 'handshake', forPool: true, ok: true, encoding: 'LINEAR16', sampleRate: 8000 }),
      );
      expect(connects).toContainEqual(expect.objectContaining({ kind: 'prewarmed', forPool: false, ok: true, durationMs: 0 }));
      expect(connects).toContainEqual(
        expect.objectContaining({ kind: 'handshake', forPool: false, ok: true, encoding: 'LINEAR16', sampleRate: 16000 }),
      );
      expect(connects).toContainEqual(
        expect.objectContaining({
          kind: 'handshake',
          ok: false,
          error: expect.objectContaining({ code: 'RATE_LIMITED', status: 429, providerCode: 'A0002' }),
        }),
      );

      expect(logs.some((l) => l.level === 'debug' && l.message.includes('access token fetched'))).toBe(true);
      expect(logs.some((l) => l.level === 'debug' && l.message.includes('pre-warmed socket'))).toBe(true);
      expect(logs.some((l) => l.level === 'debug' && l.message === 'rtzr: connected')).toBe(true);

      const everything = JSON.stringify({ seen, logs });
      expect(everything).not.toMatch(JWT);
      expect(everything).not.toContain(emulator.credentials.clientSecret);
    } finally {
      for (const off of subs) off();
    }
  });
});

describe('LatencyHistogram', () => {
  it('percentiles match exact nearest-rank values within 1/128, in fixed memory', () => {
    const h = new LatencyHistogram();
    const values: number[] = [];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      const v = Math.round(rand() < 0.9 ? 300 + rand() * 700 : 1000 + rand() * 60_000);
      values.push(v);
      h.record(v);
    }
    h.record(-5); // ignored
    h.record(Number.NaN); // ignored
    expect(h.count).toBe(20_000);
    for (const p of [1, 50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(values, p);
      expect(Math.abs(h.percentile(p) - exact)).toBeLessThanOrEqual(Math.ceil(exact / 128));
    }
    const s = h.summary();
    expect(s.min).toBe(Math.min(...values));
    expect(s.max).toBe(Math.max(...values));
  });

  it('is exact below 128 ms and keeps a huge value as max', () => {
    const h = new LatencyHistogram();
    for (const v of [3, 7, 7, 100, 127]) h.record(v);
    expect(h.summary()).toMatchObject({ count: 5, min: 3, max: 127, p50: 7 });
    h.record(10 ** 12);
    expect(h.summary().max).toBe(10 ** 12);
    expect(h.percentile(100)).toBe(10 ** 12);
  });
});
