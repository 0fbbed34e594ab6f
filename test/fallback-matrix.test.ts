/**
 * The fault matrix: the sample call through RTZR (primary) and Google (fallback) emulators with
 * one fault at a time. Whatever fails, every ground-truth final arrives exactly once, in order,
 * with continuous ids and times within tolerance, and the expected events fire.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  type AvailabilityEvent,
  type FallbackEvent,
  type ReconnectEvent,
  type StreamSummary,
} from '../src/index.js';
import {
  ScriptCursor,
  startGoogleEmulator,
  startRtzrEmulator,
  type GoogleEmulator,
  type RtzrEmulator,
} from '../src/testing/index.js';
import { expectGroundTruth, playCall, script, truth, writeCall } from './helpers/sample-call.js';

interface Rig {
  cursor: ScriptCursor;
  rtzr: RtzrEmulator;
  google: GoogleEmulator;
  recognizer: StreamingRecognizer;
  rtzrProvider: RtzrProvider;
  availability: AvailabilityEvent[];
}
let rig: Rig | undefined;

afterEach(async () => {
  if (!rig) return;
  await rig.recognizer.close();
  expect(rig.rtzr.counters.openConnections).toBe(0);
  await rig.rtzr.close();
  await rig.google.close();
  rig = undefined;
});

async function makeRig(
  opts: {
    rtzr?: ConstructorParameters<typeof RtzrProvider>[0];
    recognizer?: Partial<ConstructorParameters<typeof StreamingRecognizer>[0]>;
    google?: ConstructorParameters<typeof GoogleProvider>[0];
  } = {},
): Promise<Rig> {
  const cursor = new ScriptCursor(script); // the call's ground truth, wherever it gets recognised
  const rtzr = await startRtzrEmulator({ script: cursor });
  const google = await startGoogleEmulator({ script: cursor });
  const rtzrProvider = new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials, ...opts.rtzr });
  const recognizer = new StreamingRecognizer({
    // One Google request at a time: the emulator hands out script lines in request arrival order,
    // and concurrent requests may arrive in either order (test/google.test.ts covers concurrency).
    providers: [
      rtzrProvider,
      new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1, ...opts.google }),
    ],
    reconnect: { retries: 3, minDelayMs: 20, maxDelayMs: 100 },
    ...opts.recognizer,
  });
  const availability: AvailabilityEvent[] = [];
  recognizer.on('availability', (e) => availability.push(e));
  rig = { cursor, rtzr, google, recognizer, rtzrProvider, availability };
  return rig;
}

interface Run {
  summary: StreamSummary;
  reconnects: ReconnectEvent[];
  fallbacks: FallbackEvent[];
  finalIds: number[];
  partialIds: number[];
  errors: string[];
}

async function runCall(r: Rig, play: 'fast' | number = 'fast'): Promise<Run> {
  r.cursor.reset(); // a new call: its ground truth starts over
  const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: 1500 });
  const run: Omit<Run, 'summary'> = { reconnects: [], fallbacks: [], finalIds: [], partialIds: [], errors: [] };
  stream.on('reconnect', (e) => run.reconnects.push(e));
  stream.on('fallback', (e) => run.fallbacks.push(e));
  stream.on('final', (t) => run.finalIds.push(t.utteranceId));
  stream.on('partial', (t) => run.partialIds.push(t.utteranceId));
  stream.on('error', (e) => run.errors.push(e.code));
  if (play === 'fast') await writeCall(stream);
  else await playCall(stream, play);
  return { ...run, summary: await stream.end() };
}

/** The guarantee: all ground-truth finals, exactly once, in order, continuous ids, times within tolerance. */
function expectAllWords(run: Run): void {
  expectGroundTruth(expect, run);
}

describe('fault matrix: no words lost', () => {
  it('baseline: no fault, RTZR serves the whole call', async () => {
    const r = await makeRig();
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.summary.providers).toEqual(['rtzr']);
    expect(run.reconnects).toEqual([]);
    expect(run.fallbacks).toEqual([]);
  });

  it('authenticate 500 → fallback to Google before any audio is lost', async () => {
    const r = await makeRig();
    r.rtzr.faults.failAuth(500);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks).toHaveLength(1);
    expect(run.fallbacks[0]).toMatchObject({ from: 'rtzr', to: 'google' });
    expect(run.fallbacks[0]!.reason.code).toBe('AUTH_FAILED');
    expect(run.summary.providers).toEqual(['rtzr', 'google']);
    expect(r.availability).toEqual([expect.objectContaining({ provider: 'rtzr', available: false })]);
    expect(r.recognizer.isAvailable('rtzr')).toBe(false);
  });

  it('authenticate timeout → fallback with TIMEOUT', async () => {
    const r = await makeRig({ rtzr: { authTimeoutMs: 200 } });
    r.rtzr.faults.hangAuth();
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['TIMEOUT']);
  });

  it('a connect attempt slower than attemptTimeoutMs → fallback', async () => {
    const r = await makeRig({ recognizer: { fallback: { attemptTimeoutMs: 300 } } });
    r.rtzr.setLatency({ connectMs: 2000 });
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['TIMEOUT']);
  });

  it('handshake 401 with the token refresh failing → fallback with AUTH_FAILED', async () => {
    const r = await makeRig();
    await r.recognizer.warmup();
    r.rtzr.faults.expireTokens();
    r.rtzr.faults.failAuth(401);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['AUTH_FAILED']);
    expect(r.rtzrProvider.stats.authRetries).toBe(1);
  });

  it('429 concurrency rejection → fallback with RATE_LIMITED, no reconnect', async () => {
    const r = await makeRig();
    r.rtzr.faults.rejectConnections(429);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.reconnects).toEqual([]);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['RATE_LIMITED']);
  });

  it('connection refused → reconnect attempts, then fallback when the budget is spent', async () => {
    const r = await makeRig();
    r.rtzr.faults.refuseConnections(10);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.reconnects.map((e) => e.attempt)).toEqual([1, 2, 3]);
    for (const e of run.reconnects) {
      expect(e.provider).toBe('rtzr');
      // exponential backoff: attempt n waits at least min(maxDelayMs, minDelayMs × 2^(n−1)) (timers may fire ~1 ms early)
      expect(e.delayMs).toBeGreaterThanOrEqual(Math.min(100, 20 * 2 ** (e.attempt - 1)) - 2);
      expect(e.reason.code).toBe('CONNECTION_FAILED');
    }
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['CONNECTION_FAILED']);
  });

  it('connection refused once → one reconnect, RTZR keeps the call', async () => {
    const r = await makeRig();
    r.rtzr.faults.refuseConnections(1);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.reconnects).toHaveLength(1);
    expect(run.fallbacks).toEqual([]);
    expect(run.summary.providers).toEqual(['rtzr']);
  });

  it('drop in the middle of an utterance → reconnect and replay, the utterance keeps its id', async () => {
    const r = await makeRig();
    r.rtzr.faults.dropAfterAudioMs(4400); // inside utterance 1 (3989–4816 ms)
    const run = await runCall(r, 8);
    expectAllWords(run);
    expect(run.reconnects).toHaveLength(1);
    expect(run.reconnects[0]!.reason.code).toBe('CONNECTION_LOST');
    expect(run.fallbacks).toEqual([]);
    expect(run.summary.reconnects).toBe(1);
    expect(r.rtzr.counters.connections).toBe(2);
    // the second connection heard the audio from the end of utterance 0 on, not from the start
    const second = r.rtzr.connectionsLog[1]!;
    expect(second.audioMs).toBeLessThan(truth.durationMs - truth.utterances[0]!.endMs + 100);
  });

  it('drop between utterances → reconnect, nothing repeated', async () => {
    const r = await makeRig();
    r.rtzr.faults.dropAfterAudioMs(3400); // between utterance 0 and 1
    const run = await runCall(r, 8);
    expectAllWords(run);
    expect(run.reconnects).toHaveLength(1);
  });

  it('the reconnect budget resets after healthy uptime: two drops far apart both reconnect', async () => {
    // retries: 1 — without the reset, the second drop would find the budget spent and fall back
    const r = await makeRig({ recognizer: { reconnect: { retries: 1, minDelayMs: 5, maxDelayMs: 10, resetAfterMs: 200 } } });
    r.rtzr.faults.dropAfterAudioMs(4400, 2); // each of the next two connections drops at 4.4 s of its audio
    const run = await runCall(r, 4); // the second connection stays up ~650 ms before its drop
    expectAllWords(run);
    expect(run.reconnects.map((e) => e.attempt)).toEqual([1, 1]);
    expect(run.fallbacks).toEqual([]);
    expect(r.rtzr.counters.connections).toBe(3);
  });

  it('drops on every connection → budget spent → fallback, words of the drop replayed into Google', async () => {
    const r = await makeRig({ recognizer: { reconnect: { retries: 2, minDelayMs: 10, maxDelayMs: 20 } } });
    r.rtzr.faults.dropAfterAudioMs(4400, 10);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks).toHaveLength(1);
    expect(run.fallbacks[0]!.replayedMs).toBeGreaterThan(0);
    expect(run.summary.transcripts.at(-1)!.provider).toBe('google');
  });

  it('stall (no results while speech is sent) → fallback with TIMEOUT', async () => {
    const r = await makeRig({ recognizer: { fallback: { stallTimeoutMs: 600 } } });
    const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const fallbacks: FallbackEvent[] = [];
    stream.on('fallback', (e) => fallbacks.push(e));
    stream.once('final', () => r.rtzr.faults.stall(true)); // RTZR goes silent after the first final
    await playCall(stream, 4);
    const summary = await stream.end();
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(summary.transcripts.map((t) => t.utteranceId)).toEqual([0, 1, 2, 3]);
    expect(fallbacks.map((f) => f.reason.code)).toEqual(['TIMEOUT']);
    expect(fallbacks[0]!.reason.message).toMatch(/stalled/);
  });

  it('stall after the end of audio → end() recovers the last finals through the fallback', async () => {
    const r = await makeRig();
    r.rtzr.faults.stall(true);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['TIMEOUT']);
  });

  it('malformed frame → fallback with PROVIDER_ERROR', async () => {
    const r = await makeRig();
    r.rtzr.faults.sendMalformed();
    const run = await runCall(r, 8); // paced: the abandoned server must not hear the future of the call
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['PROVIDER_ERROR']);
  });

  it('server error frame → fallback with PROVIDER_ERROR', async () => {
    const r = await makeRig();
    r.rtzr.faults.sendErrorFrame();
    const run = await runCall(r, 8);
    expectAllWords(run);
    expect(run.fallbacks.map((f) => f.reason.code)).toEqual(['PROVIDER_ERROR']);
  });

  it('no close after EOS → end() is bounded and keeps every final', async () => {
    const r = await makeRig();
    r.rtzr.faults.noCloseAfterEos(true);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.fallbacks).toEqual([]);
  });

  it('Google 500 then success → the request is retried, no word lost', async () => {
    const r = await makeRig();
    r.rtzr.faults.failAuth(500);
    r.google.faults.failRecognize(500, 1);
    const run = await runCall(r);
    expectAllWords(run);
    expect(r.google.counters.failures).toBe(1);
    expect(r.google.counters.recognized).toBe(4);
  });

  it('every provider failing → AllProvidersFailedError, the stream closes with what it has', async () => {
    const r = await makeRig();
    r.rtzr.faults.failAuth(500);
    r.google.faults.failRecognize(403, 10);
    const run = await runCall(r);
    expect(run.summary.error?.code).toBe('ALL_PROVIDERS_FAILED');
    expect(run.errors).toEqual(['ALL_PROVIDERS_FAILED']);
    const errs = (run.summary.error as unknown as { errors: { provider: string; code: string }[] }).errors;
    expect(errs.map((e) => [e.provider, e.code])).toEqual([
      ['rtzr', 'AUTH_FAILED'],
      ['google', 'AUTH_FAILED'],
    ]);
    expect(r.google.counters.failures).toBe(1); // 403 is not retried
  });

  it('fallback: false keeps the stream on RTZR: a transient failure is retried there', async () => {
    const r = await makeRig({ recognizer: { fallback: false } });
    r.rtzr.faults.failAuth(500);
    const run = await runCall(r);
    expectAllWords(run);
    expect(run.reconnects.map((e) => [e.provider, e.reason.code])).toEqual([['rtzr', 'AUTH_FAILED']]);
    expect(run.fallbacks).toEqual([]);
    expect(r.google.counters.recognizeRequests).toBe(0);
  });

  it('fallback: false surfaces a permanent failure as RTZR\'s own error', async () => {
    const r = await makeRig({ recognizer: { fallback: false } });
    r.rtzr.faults.failAuth(401); // credentials rejected
    const run = await runCall(r);
    expect(run.summary.error).toMatchObject({ code: 'AUTH_FAILED', provider: 'rtzr', retryable: false });
    expect(run.errors).toEqual(['AUTH_FAILED']);
    expect(run.reconnects).toEqual([]);
    expect(run.fallbacks).toEqual([]);
    expect(r.google.counters.recognizeRequests).toBe(0);
  });
});

describe('recovery and bounds', () => {
  it('a failed primary is skipped by new streams, probed after the cooldown, and serves again', async () => {
    const r = await makeRig({ recognizer: { fallback: { recoveryCooldownMs: 200 } } });
    r.rtzr.faults.failAuth(500);
    const first = await runCall(r);
    expect(first.summary.providers).toEqual(['rtzr', 'google']);
    expect(r.recognizer.isAvailable('rtzr')).toBe(false);

    // immediately after: new streams start on Google
    const authBefore = r.rtzr.counters.authRequests;
    const second = await runCall(r);
    expect(second.summary.providers).toEqual(['google']);
    expect(second.summary.transcripts.map((t) => t.text)).toEqual(script);

    // the probe (token + handshake) brings RTZR back
    await expect.poll(() => r.recognizer.isAvailable('rtzr'), { timeout: 5000 }).toBe(true);
    expect(r.rtzr.counters.authRequests).toBeGreaterThan(authBefore);
    expect(r.availability.map((a) => [a.provider, a.available])).toEqual([
      ['rtzr', false],
      ['rtzr', true],
    ]);
    const third = await runCall(r);
    expect(third.summary.providers).toEqual(['rtzr']);
    expectAllWords(third);
  });

  it('a failing probe keeps the provider out and backs off', async () => {
    const r = await makeRig({ recognizer: { fallback: { recoveryCooldownMs: 100 } } });
    r.rtzr.faults.failAuth(500, 3); // the call's attempt plus two probes fail
    await runCall(r);
    await expect.poll(() => r.rtzr.counters.authRequests, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await expect.poll(() => r.recognizer.isAvailable('rtzr'), { timeout: 5000 }).toBe(true);
    expect(r.availability.map((a) => a.available)).toEqual([false, true]);
  });

  it('the replay buffer never holds more than replayWindowMs of audio', async () => {
    const r = await makeRig();
    r.rtzr.faults.stall(true); // no finals: nothing ever gets committed
    const stream = r.recognizer.stream({
      audio: { encoding: 'mulaw', sampleRate: 8000 },
      replayWindowMs: 2000,
      highWaterMark: 64_000,
    });
    let max = 0;
    const { frames, mulaw8k } = await import('./helpers/sample-call.js');
    for (const f of frames(mulaw8k.data, 160)) {
      stream.write(f);
      max = Math.max(max, stream.replayBufferedMs);
    }
    expect(max).toBeLessThanOrEqual(2000);
    expect(max).toBeGreaterThan(1900);
    stream.abort();
  });

  it('finals already delivered are not delivered again after a reconnect replay', async () => {
    const r = await makeRig();
    const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const texts: string[] = [];
    stream.on('final', (t) => texts.push(t.text));
    stream.on('final', (t) => {
      if (t.utteranceId === 1) r.rtzr.faults.dropAll(); // drop right after a final
    });
    await playCall(stream, 8);
    const summary = await stream.end();
    expect(texts).toEqual(script);
    expect(summary.reconnects).toBe(1);
  });
});
