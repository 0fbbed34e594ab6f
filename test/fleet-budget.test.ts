/**
 * The concurrency budget (`maxConcurrent`) in one process, without Redis: the RTZR emulator enforces
 * the same channel cap and answers 429 `A0002` beyond it, so "no 429 and peak ≤ budget" shows the
 * client never knocked on a full RTZR. Overflow goes to Google with every final right.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GoogleProvider,
  LocalCoordinator,
  RtzrProvider,
  StreamingRecognizer,
  type Coordinator,
  type CoordinatorEvent,
  type FallbackEvent,
  type RecognitionStream,
  type StreamSummary,
} from '../src/index.js';
import { ScriptCursor, startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { perCallScripts } from './helpers/fleet.js';
import { linear16k, playCall, script, writeCall } from './helpers/sample-call.js';

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

interface Rig {
  rtzr: RtzrEmulator;
  google: GoogleEmulator;
  recognizers: StreamingRecognizer[];
  /** One Google script cursor per call (by language tag), so concurrent calls each hear their own truth. */
  cursors: Map<string, ScriptCursor>;
}
let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  for (const r of rig.recognizers) await r.close();
  await expect.poll(() => rig!.rtzr.counters.openConnections).toBe(0);
  await rig.rtzr.close();
  await rig.google.close();
  rig = undefined;
});

async function makeRig(budget: number): Promise<Rig> {
  const cursors = new Map<string, ScriptCursor>();
  const rtzr = await startRtzrEmulator({ script, maxConcurrent: budget, latency: { connectMs: 20 } });
  const google = await startGoogleEmulator({ scriptFor: perCallScripts(script, cursors) });
  rig = { rtzr, google, recognizers: [], cursors };
  return rig;
}

function recognizer(r: Rig, rtzr: ConstructorParameters<typeof RtzrProvider>[0], extra: Partial<ConstructorParameters<typeof StreamingRecognizer>[0]> = {}) {
  const rec = new StreamingRecognizer({
    providers: [
      new RtzrProvider({ apiBase: r.rtzr.apiBase, ...r.rtzr.credentials, ...rtzr }),
      new GoogleProvider({ endpoint: r.google.endpoint, apiKey: r.google.apiKey }),
    ],
    ...extra,
  });
  r.recognizers.push(rec);
  return rec;
}

interface CallRun {
  summary: StreamSummary;
  fallbacks: FallbackEvent[];
  opened: Promise<string>;
}

/** A call with its own language tag (Google's emulator picks the call's script by it). */
function startCall(rec: StreamingRecognizer, tag: string, audio: { encoding: 'mulaw' | 'linear16'; sampleRate: number } = MULAW) {
  const stream = rec.stream({ audio, language: `ko-KR-x-${tag}` });
  const fallbacks: FallbackEvent[] = [];
  stream.on('fallback', (e) => fallbacks.push(e));
  const opened = new Promise<string>((resolve) => stream.once('open', (e) => resolve(e.provider)));
  return { stream, fallbacks, opened };
}

async function finish(call: { stream: RecognitionStream; fallbacks: FallbackEvent[]; opened: Promise<string> }, speed: number | 'fast', data?: Uint8Array): Promise<CallRun> {
  if (speed === 'fast') await writeCall(call.stream, data, data ? 640 : 160);
  else await playCall(call.stream, speed, data);
  return { summary: await call.stream.end(), fallbacks: call.fallbacks, opened: call.opened };
}

function expectAllWords(run: CallRun): void {
  expect(run.summary.error).toBeUndefined();
  expect(run.summary.transcripts.map((t) => t.text)).toEqual(script);
}

describe('maxConcurrent in one process', () => {
  it('a stream that finds the budget full falls back at once with RateLimitError; RTZR never sees a 429 and stays in rotation', async () => {
    const r = await makeRig(2);
    const rec = recognizer(r, { maxConcurrent: 2 });
    const calls = ['a', 'b', 'c'].map((t) => startCall(rec, t));
    // the first two hold RTZR's two channels; the third is turned away before any handshake
    const third = calls[2]!;
    expect(await third.opened).toBe('google');
    expect(third.fallbacks).toHaveLength(1);
    expect(third.fallbacks[0]).toMatchObject({ from: 'rtzr', to: 'google', replayedMs: expect.any(Number) });
    expect(third.fallbacks[0]!.reason.code).toBe('RATE_LIMITED');
    expect(third.fallbacks[0]!.reason.status).toBeUndefined(); // raised locally: no HTTP round trip
    const runs = await Promise.all(calls.map((c) => finish(c, 4)));
    for (const run of runs) expectAllWords(run);
    expect(runs.map((x) => x.summary.providers)).toEqual([['rtzr'], ['rtzr'], ['rtzr', 'google']]);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
    expect(r.rtzr.counters.peakOpenConnections).toBe(2);
    expect(rec.isAvailable('rtzr')).toBe(true); // a full budget is not a failure of the provider
    const rtzr = rec.providers[0] as RtzrProvider;
    expect(rtzr.stats.budgetRejected).toBe(1);
  });

  it('without maxConcurrent the same load knocks on RTZR and gets the 429 (what the budget avoids)', async () => {
    const r = await makeRig(2);
    const rec = recognizer(r, {});
    const calls = ['a', 'b', 'c'].map((t) => startCall(rec, t));
    const runs = await Promise.all(calls.map((c) => finish(c, 4)));
    for (const run of runs) expectAllWords(run);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(1);
  });

  it('queueTimeoutMs: a stream waits for a slot instead of falling back, and gets it when a call ends', async () => {
    const r = await makeRig(1);
    const rec = recognizer(r, { maxConcurrent: 1, queueTimeoutMs: 8000 });
    const first = startCall(rec, 'a');
    expect(await first.opened).toBe('rtzr');
    const second = startCall(rec, 'b');
    const secondWrites = writeCall(second.stream); // queued while it waits for the slot
    const firstRun = await finish(first, 'fast');
    expectAllWords(firstRun);
    expect(await second.opened).toBe('rtzr');
    await secondWrites;
    const secondRun = { summary: await second.stream.end(), fallbacks: second.fallbacks, opened: second.opened };
    expectAllWords(secondRun);
    expect(secondRun.fallbacks).toEqual([]);
    expect(r.rtzr.counters.peakOpenConnections).toBe(1);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
    expect((rec.providers[0] as RtzrProvider).stats.budgetWaits).toBe(1);
  });

  it('pre-warmed sockets count against the budget and keep a slot free for calls', async () => {
    const r = await makeRig(3);
    const rec = recognizer(r, { maxConcurrent: 3, prewarm: 1 });
    await rec.warmup();
    const rtzr = rec.providers[0] as RtzrProvider;
    expect(rtzr.idleSockets).toBe(1);
    const calls = ['a', 'b', 'c', 'd'].map((t) => startCall(rec, t));
    const opened = await Promise.all(calls.map((c) => c.opened));
    // three channels: the pooled socket and two new ones; its replacement is put off while the budget is tight
    expect(opened.filter((p) => p === 'rtzr')).toHaveLength(3);
    expect(opened.filter((p) => p === 'google')).toHaveLength(1);
    const runs = await Promise.all(calls.map((c) => finish(c, 4)));
    for (const run of runs) expectAllWords(run);
    expect(r.rtzr.counters.peakOpenConnections).toBeLessThanOrEqual(3);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
    expect(rtzr.stats.prewarmHits).toBe(1);
    // once the calls are over the pool fills again
    await expect.poll(() => rtzr.idleSockets, { timeout: 5000 }).toBe(1);
  });

  it('a call that finds the budget full closes an idle pre-warmed socket of another format and takes its slot', async () => {
    const r = await makeRig(2);
    const rec = recognizer(r, { maxConcurrent: 2, prewarm: { count: 1, audio: { encoding: 'linear16', sampleRate: 16000 } } });
    await rec.warmup();
    const rtzr = rec.providers[0] as RtzrProvider;
    expect(rtzr.idleSockets).toBe(1);
    const first = startCall(rec, 'a'); // 8 kHz: the 16 kHz socket cannot serve it
    expect(await first.opened).toBe('rtzr');
    const second = startCall(rec, 'b'); // budget full (idle socket + first call): the idle socket gives way
    expect(await second.opened).toBe('rtzr');
    expect(rtzr.stats.prewarmShed).toBe(1);
    expect(rtzr.stats.budgetRejected).toBe(0);
    const runs = await Promise.all([first, second].map((c) => finish(c, 4)));
    for (const run of runs) expectAllWords(run);
    expect(runs.map((x) => x.summary.providers)).toEqual([['rtzr'], ['rtzr']]);
    expect(r.rtzr.counters.peakOpenConnections).toBe(2);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
  });

  it('a budget with no room beyond the reserve never fills the pool; warmup() still resolves', async () => {
    const r = await makeRig(1);
    const rec = recognizer(r, { maxConcurrent: 1, prewarm: 1 });
    await rec.warmup();
    const rtzr = rec.providers[0] as RtzrProvider;
    expect(rtzr.idleSockets).toBe(0);
    expect(rtzr.stats.prewarmDeferred).toBeGreaterThan(0);
    expect(rtzr.stats.prewarmFailures).toBe(0);
    const run = await finish(startCall(rec, 'a'), 'fast');
    expectAllWords(run);
    expect(run.summary.providers).toEqual(['rtzr']);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
  });

  it('two recognizers on one LocalCoordinator share one budget and one token', async () => {
    const r = await makeRig(2);
    const shared = new LocalCoordinator();
    const a = recognizer(r, { maxConcurrent: 2 }, { coordinator: shared });
    const b = recognizer(r, { maxConcurrent: 2 }, { coordinator: shared });
    const calls = [startCall(a, 'a'), startCall(b, 'b')];
    expect(await Promise.all(calls.map((c) => c.opened))).toEqual(['rtzr', 'rtzr']);
    const third = startCall(a, 'c');
    const fourth = startCall(b, 'd');
    expect(await third.opened).toBe('google');
    expect(await fourth.opened).toBe('google');
    const runs = await Promise.all([...calls, third, fourth].map((c) => finish(c, 4)));
    for (const run of runs) expectAllWords(run);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
    expect(r.rtzr.counters.peakOpenConnections).toBe(2);
    expect(r.rtzr.counters.authRequests).toBe(1);
    expect((a.providers[0] as RtzrProvider).stats.fleetTokens + (b.providers[0] as RtzrProvider).stats.fleetTokens).toBe(1);
  });

  it('16 kHz LINEAR16 calls, written as fast as possible, overflow the same way', async () => {
    const r = await makeRig(1);
    const rec = recognizer(r, { maxConcurrent: 1 });
    const audio = { encoding: 'linear16', sampleRate: 16000 } as const;
    const calls = ['a', 'b'].map((t) => startCall(rec, t, audio));
    const runs = await Promise.all(calls.map((c) => finish(c, 'fast', linear16k.data)));
    for (const run of runs) expectAllWords(run);
    expect(runs.map((x) => x.summary.providers[0])).toEqual(['rtzr', 'rtzr']);
    expect(runs[1]!.summary.providers).toEqual(['rtzr', 'google']);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
  });
});

/** Google with a budget of one session first, RTZR second. */
function googleFirst(r: Rig): StreamingRecognizer {
  const rec = new StreamingRecognizer({
    providers: [
      new GoogleProvider({ endpoint: r.google.endpoint, apiKey: r.google.apiKey, maxConcurrent: 1 }),
      new RtzrProvider({ apiBase: r.rtzr.apiBase, ...r.rtzr.credentials }),
    ],
  });
  r.recognizers.push(rec);
  return rec;
}

describe('the generic budget of the provider base (any provider with `concurrency`)', () => {
  it('GoogleProvider({ maxConcurrent: 1 }) first: the second concurrent call goes to RTZR; the lease returns when a call ends', async () => {
    const rec = googleFirst(await makeRig(5));
    const a = startCall(rec, 'ga');
    const b = startCall(rec, 'gb');
    expect(await a.opened).toBe('google');
    expect(await b.opened).toBe('rtzr');
    expect(b.fallbacks[0]).toMatchObject({ from: 'google', to: 'rtzr' });
    expect(b.fallbacks[0]!.reason.code).toBe('RATE_LIMITED');
    const runs = await Promise.all([finish(a, 'fast'), finish(b, 'fast')]);
    for (const run of runs) expectAllWords(run);
    expect(rec.isAvailable('google')).toBe(true);
    // a's lease went back when it ended: the next call gets Google again
    const c = startCall(rec, 'gc');
    expect(await c.opened).toBe('google');
    expectAllWords(await finish(c, 'fast'));
  });

  it('an aborted call gives its lease back', async () => {
    const rec = googleFirst(await makeRig(5));
    const a = startCall(rec, 'aa');
    expect(await a.opened).toBe('google');
    a.stream.abort();
    const b = startCall(rec, 'ab');
    expect(await b.opened).toBe('google');
    expectAllWords(await finish(b, 'fast'));
  });

  it('rejects invalid budget options with ConfigurationError', () => {
    expect(() => new RtzrProvider({ clientId: 'x', clientSecret: 'y', maxConcurrent: 0 })).toThrow(/maxConcurrent/);
    expect(() => new RtzrProvider({ clientId: 'x', clientSecret: 'y', maxConcurrent: 2, leaseTtlMs: 10 })).toThrow(/leaseTtlMs/);
    expect(() => new GoogleProvider({ apiKey: 'k', maxConcurrent: 1.5 })).toThrow(/maxConcurrent/);
    expect(() => new GoogleProvider({ apiKey: 'k', queueTimeoutMs: -1 })).toThrow(/queueTimeoutMs/);
  });
});

describe('LocalCoordinator and custom coordinators', () => {
  it('LocalCoordinator leases and locks expire on their TTL unless renewed (injectable clock)', async () => {
    let now = 1_000_000;
    const c = new LocalCoordinator({ now: () => now });
    const a = await c.tryAcquireSlot('r', 2, 1000);
    const b = await c.tryAcquireSlot('r', 2, 1000);
    expect(await c.tryAcquireSlot('r', 2, 1000)).toBeUndefined();
    now += 600;
    expect(await a!.renew()).toBe(true); // a lives until now + 1000
    now += 600; // b expired, a not
    expect(await c.countSlots('r')).toBe(1);
    expect(await b!.renew()).toBe(false);
    const lock = await c.tryLock('l', 500);
    expect(await c.tryLock('l', 500)).toBeUndefined();
    now += 501;
    const again = await c.tryLock('l', 500);
    expect(again).toBeDefined();
    await lock!.release(); // the old holder cannot release the new holder's lock
    expect(await c.tryLock('l', 500)).toBeUndefined();
    await again!.release();
    expect(await c.tryLock('l', 500)).toBeDefined();
  });

  it('a coordinator that stops answering: calls go on alone at once, `coordinator` events, and it rejoins', async () => {
    const r = await makeRig(2);
    const inner = new LocalCoordinator();
    let hang = false;
    const never = new Promise<never>(() => {});
    // a user-written Coordinator (the interface is public), here one whose every call can hang
    const flaky: Coordinator = {
      name: 'flaky',
      timeoutMs: 50,
      syncIntervalMs: 1000,
      tryAcquireSlot: (...a) => (hang ? never : inner.tryAcquireSlot(...a)),
      countSlots: (...a) => (hang ? never : inner.countSlots(...a)),
      tryLock: (...a) => (hang ? never : inner.tryLock(...a)),
      getToken: (...a) => (hang ? never : inner.getToken(...a)),
      putToken: (...a) => (hang ? never : inner.putToken(...a)),
      deleteToken: (...a) => (hang ? never : inner.deleteToken(...a)),
      getHealth: (...a) => (hang ? never : inner.getHealth(...a)),
      putHealth: (...a) => (hang ? never : inner.putHealth(...a)),
      ping: () => (hang ? never : inner.ping()),
    };
    const rec = recognizer(r, { maxConcurrent: 2 }, { coordinator: flaky });
    const events: CoordinatorEvent[] = [];
    rec.on('coordinator', (e) => events.push(e));
    expect(rec.coordinatorAvailable).toBe(true);
    hang = true;
    const a = startCall(rec, 'fa');
    expect(await a.opened).toBe('rtzr');
    expect(events).toEqual([{ available: false, coordinator: 'flaky', reason: expect.stringContaining('took longer than 50 ms') }]);
    const b = startCall(rec, 'fb');
    const c = startCall(rec, 'fc'); // the process's own budget of 2 holds while alone
    expect(await b.opened).toBe('rtzr');
    expect(await c.opened).toBe('google');
    hang = false;
    await expect.poll(() => rec.coordinatorAvailable).toBe(true);
    expect(events.map((e) => e.available)).toEqual([false, true]);
    // back: the two open calls were registered with the coordinator
    await expect.poll(() => inner.countSlots(`rtzr:${accountOf(r.rtzr)}`)).toBe(2);
    const runs = await Promise.all([a, b, c].map((x) => finish(x, 'fast')));
    for (const run of runs) expectAllWords(run);
    expect(r.rtzr.counters.rateLimitedConnections).toBe(0);
  });
});

function accountOf(emu: RtzrEmulator): string {
  return createHash('sha256').update(`${emu.apiBase}\n${emu.credentials.clientId}`).digest('hex').slice(0, 16);
}
