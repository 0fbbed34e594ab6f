import { afterEach, describe, expect, it } from 'vitest';
import { RtzrProvider, StreamingRecognizer, type ReconnectEvent, type UtteranceMetrics } from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator, type RtzrEmulatorOptions } from '../src/testing/index.js';
import { linear16k, script, writeCall, frames, mulaw8k } from './helpers/sample-call.js';

let emulator: RtzrEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  recognizer = undefined;
  emulator = undefined;
});

async function setup(opts: RtzrEmulatorOptions = {}, provider: ConstructorParameters<typeof RtzrProvider>[0] = {}) {
  emulator = await startRtzrEmulator({ script, ...opts });
  const p = new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    ...provider,
  });
  recognizer = new StreamingRecognizer({ providers: [p] });
  return { emulator, recognizer, provider: p };
}

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

describe('RtzrProvider({ prewarm })', () => {
  it('warmup() fetches the token and opens the pool before any call', async () => {
    const { emulator, recognizer, provider } = await setup({ latency: { authMs: 50, connectMs: 50 } }, { prewarm: 2 });
    await recognizer.warmup();
    expect(provider.idleSockets).toBe(2);
    expect(emulator.counters.authRequests).toBe(1);
    expect(emulator.counters.openConnections).toBe(2);
    expect(provider.stats).toMatchObject({ tokenFetches: 1, connects: 2, prewarmHits: 0 });
  });

  it('the first utterance of a call pays no token or handshake: tokenMs 0, tokenCached, connectMs 0, prewarmed', async () => {
    // slow auth and handshake, so a call that paid either would show it in its metrics
    const { emulator, recognizer, provider } = await setup({ latency: { authMs: 200, connectMs: 200 } }, { prewarm: 1 });
    await recognizer.warmup();
    const metrics: UtteranceMetrics[] = [];
    const stream = recognizer.stream({ audio: MULAW });
    stream.on('metrics', (m) => metrics.push(m));
    await writeCall(stream);
    const summary = await stream.end();

    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(metrics[0]).toMatchObject({
      utteranceId: 0,
      tokenMs: 0,
      tokenCached: true,
      connectMs: 0,
      prewarmed: true,
      connectionReused: false,
    });
    for (const m of metrics.slice(1)) expect(m).toMatchObject({ connectionReused: true, prewarmed: true, connectMs: 0 });
    expect(provider.stats.prewarmHits).toBe(1);
    // the call rode the socket opened by warmup(): connection 1 carried its audio
    expect(emulator.connectionsLog[0]!.audioMs).toBeGreaterThan(9000);
    expect(emulator.counters.authRequests).toBe(1);
  });

  it('replaces the used socket in the background', async () => {
    const { emulator, recognizer, provider } = await setup({}, { prewarm: 1 });
    await recognizer.warmup();
    const stream = recognizer.stream({ audio: MULAW });
    await new Promise<void>((r) => stream.once('open', () => r()));
    expect(provider.stats.prewarmHits).toBe(1);
    // a new idle socket appears while the call still holds the first one
    await expect.poll(() => provider.idleSockets).toBe(1);
    expect(emulator.counters.openConnections).toBe(2);
    expect(emulator.counters.connections).toBe(2);

    // the next call takes the replacement: still no handshake on its path
    const second: UtteranceMetrics[] = [];
    const s2 = recognizer.stream({ audio: MULAW });
    s2.on('metrics', (m) => second.push(m));
    for (const f of frames(mulaw8k.data.subarray(0, 3200 * 8), 160)) s2.write(f);
    await s2.end();
    expect(second[0]).toMatchObject({ prewarmed: true, connectMs: 0, tokenMs: 0 });
    await stream.end();
  });

  it('serves any input whose wire URL matches the pool, and only those', async () => {
    const { emulator, recognizer, provider } = await setup({}, { prewarm: 1 });
    await recognizer.warmup();
    // 8 kHz LINEAR16 input goes out as LINEAR16/8000, like 8 kHz mu-law: the pool serves it
    const m8: UtteranceMetrics[] = [];
    const s8 = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 8000 } });
    s8.on('metrics', (m) => m8.push(m));
    const pcm8 = new Int16Array(8000 * 3); // 3 s: a burst of tone after 0.5 s of silence
    for (let i = 4000; i < 16000; i++) pcm8[i] = Math.round(8000 * Math.sin(i / 3));
    s8.write(pcm8);
    await s8.end();
    expect(m8[0]).toMatchObject({ prewarmed: true });

    // 16 kHz LINEAR16 has another query string: no pool, a normal handshake
    await expect.poll(() => provider.idleSockets).toBe(1);
    const m16: UtteranceMetrics[] = [];
    const s16 = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    s16.on('metrics', (m) => m16.push(m));
    await writeCall(s16, linear16k.data, 640);
    await s16.end();
    expect(m16[0]).toMatchObject({ prewarmed: false });
    expect(provider.stats.prewarmHits).toBe(1);
    const rates = emulator.connectionsLog.map((c) => `${c.query.encoding}/${c.query.sample_rate}`);
    expect(rates.filter((r) => r === 'LINEAR16/16000')).toHaveLength(1);
  });

  it('pre-warms other formats with { count, audio } and pools by wire URL', async () => {
    const { emulator, recognizer, provider } = await setup(
      {},
      { prewarm: [{ count: 1, audio: { encoding: 'linear16', sampleRate: 16000 } }, { count: 1 }], wireEncoding: 'passthrough' },
    );
    await recognizer.warmup();
    expect(provider.idleSockets).toBe(2);
    const queries = emulator.connectionsLog.map((c) => `${c.query.encoding}/${c.query.sample_rate}`).sort();
    expect(queries).toEqual(['LINEAR16/16000', 'MULAW/8000']);
    const m: UtteranceMetrics[] = [];
    const s = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    s.on('metrics', (x) => m.push(x));
    await writeCall(s, linear16k.data, 640);
    await s.end();
    expect(m[0]).toMatchObject({ prewarmed: true });
  });

  it('recycles idle sockets at idleMs, never holding more than count, and still serves calls', async () => {
    const { emulator, recognizer, provider } = await setup({}, { prewarm: { count: 1, idleMs: 150 } });
    await recognizer.warmup();
    // the server logs a close once the client's polite close handshake is done: wait for three of them
    const log = emulator.connectionsLog;
    await expect.poll(() => log.filter((c) => c.closedAt !== undefined).length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    const closed = log.filter((c) => c.closedAt !== undefined);
    expect(provider.stats.prewarmRecycled).toBeGreaterThanOrEqual(3);
    for (const c of closed) expect(c.closeCode).toBe(1000); // closed politely by the client
    for (let i = 1; i < log.length; i++) expect(log[i]!.openedAt).toBeGreaterThanOrEqual(log[i - 1]!.closedAt!);
    expect(provider.stats.prewarmLost).toBe(0);

    await expect.poll(() => provider.idleSockets).toBe(1);
    const m: UtteranceMetrics[] = [];
    const s = recognizer.stream({ audio: MULAW });
    s.on('metrics', (x) => m.push(x));
    for (const f of frames(mulaw8k.data.subarray(0, 3200 * 8), 160)) s.write(f);
    await s.end();
    expect(m[0]).toMatchObject({ prewarmed: true });
  });

  it('pool sockets count against the concurrency limit', async () => {
    const { emulator, recognizer } = await setup({ maxConcurrent: 2 }, { prewarm: 2 });
    await recognizer.warmup();
    expect(emulator.counters.openConnections).toBe(2);
    // a format without a pool needs a third channel: RTZR answers 429 A0002 (and the stream, with no
    // other provider, keeps retrying with backoff)
    const other = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    const retry = await new Promise<ReconnectEvent>((r) => other.once('reconnect', r));
    expect(retry.reason).toMatchObject({ code: 'RATE_LIMITED', providerCode: 'A0002' });
    other.abort();
    // a matching call is served from the pool, inside the limit
    const m: UtteranceMetrics[] = [];
    const s = recognizer.stream({ audio: MULAW });
    s.on('metrics', (x) => m.push(x));
    for (const f of frames(mulaw8k.data.subarray(0, 3200 * 8), 160)) s.write(f);
    const ok = await s.end();
    expect(ok.error).toBeUndefined();
    expect(m[0]).toMatchObject({ prewarmed: true });
  });

  it('replaces a socket that dies while idle', async () => {
    const { emulator, recognizer, provider } = await setup({}, { prewarm: 2 });
    await recognizer.warmup();
    emulator.faults.dropAll();
    await expect.poll(() => provider.stats.prewarmLost).toBe(2);
    await expect.poll(() => provider.idleSockets).toBe(2);
    expect(emulator.counters.openConnections).toBe(2);
    expect(emulator.counters.connections).toBe(4);
  });

  it('a failing pool (no unhandled rejection) does not hold up calls, and refills once the server is back', async () => {
    // the retry schedule itself (at once, then 1, 2, 4, 8, 16 s) is tested on a fake clock in socket-pool.test.ts
    const { emulator, recognizer, provider } = await setup({}, { prewarm: 1 });
    await recognizer.warmup();
    emulator.faults.refuseConnections(1000);
    emulator.faults.dropAll();
    await expect.poll(() => provider.stats.prewarmLost).toBe(1);
    await expect.poll(() => provider.stats.prewarmFailures).toBeGreaterThanOrEqual(1);
    expect(provider.idleSockets).toBe(0);

    emulator.faults.reset();
    // a call meanwhile connects normally and re-arms the pool
    const m: UtteranceMetrics[] = [];
    const s = recognizer.stream({ audio: MULAW });
    s.on('metrics', (x) => m.push(x));
    for (const f of frames(mulaw8k.data.subarray(0, 3200 * 8), 160)) s.write(f);
    await s.end();
    expect(m[0]).toMatchObject({ prewarmed: false });
    await expect.poll(() => provider.idleSockets, { timeout: 10_000 }).toBe(1);
  });

  it('warmup() rejects with a typed error when the pool cannot open, and close() still leaves nothing', async () => {
    const { emulator, recognizer } = await setup({}, { prewarm: 1 });
    emulator.faults.rejectConnections(429, 100);
    await expect(recognizer.warmup()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await recognizer.close();
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('close() releases idle sockets, in-flight handshakes and timers', async () => {
    const { emulator, recognizer } = await setup({ latency: { connectMs: 300 } }, { prewarm: { count: 2, idleMs: 60_000 } });
    const warm = expect(recognizer.warmup()).rejects.toMatchObject({ code: 'ABORTED' });
    await expect.poll(() => emulator.counters.authRequests).toBe(1);
    await recognizer.close(); // handshakes still under way
    await warm;
    await new Promise((r) => setTimeout(r, 400));
    expect(emulator.counters.openConnections).toBe(0);
    // the leak check of this file fails on any socket or timer left behind
  });

  it('validates the option', async () => {
    const base = { clientId: 'a', clientSecret: 'b' };
    expect(() => new RtzrProvider({ ...base, prewarm: -1 })).toThrowError(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    expect(() => new RtzrProvider({ ...base, prewarm: 1.5 })).toThrowError(/count must be an integer/);
    expect(
      () => new RtzrProvider({ ...base, prewarm: { count: 1, audio: { encoding: 'mp3' as 'mulaw', sampleRate: 8000 } } }),
    ).toThrowError(/prewarm.audio/);
    expect(() => new RtzrProvider({ ...base, prewarm: { count: 1, idleMs: 10 } })).toThrowError(/idleMs/);
    expect(() => new RtzrProvider({ ...base, prewarm: 0 })).not.toThrow();
  });
});
