/**
 * The fault matrix of spec §8 / issue #9: the sample call through RTZR, with a Google fallback and
 * with RTZR alone, fed live (1x) and four times faster than real time (4x), one fault at a time.
 * Whatever fails, every ground-truth final arrives exactly once, in order, at the right times, with
 * no `error` event; the recovery (reconnect or fallback, and why) is the one the policy prescribes.
 *
 * Each test has its own emulators and recognizer, so the tests run concurrently (a 1x call takes
 * the call's 10 s of wall time).
 */
import { describe, it, type ExpectStatic } from 'vitest';
import {
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  type FallbackEvent,
  type ReconnectEvent,
  type StateEvent,
  type StreamSummary,
} from '../src/index.js';
import { ScriptCursor, startGoogleEmulator, startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { expectGroundTruth, mulaw8k, playCall, script, truth } from './helpers/sample-call.js';
const STALL_MS = 2000;
const END_TIMEOUT_MS = 1500;
/** mu-law 8 kHz: bytes per ms. */
const BPMS = 8;

type Config = 'with Google fallback' | 'RTZR alone';

interface Fault {
  name: string;
  inject(rtzr: RtzrEmulator): void;
  /** End the call here (ms of audio): the last utterance is still open at EOS, its final comes after it. */
  endAtMs?: number;
  /** RTZR provider options for this fault. */
  rtzr?: ConstructorParameters<typeof RtzrProvider>[0];
  /** What recovers it with another provider available (the policy switches at once unless the connection failed). */
  withFallback: 'fallback' | 'reconnect' | 'none';
  /** The reasons of the recovery events, in order (RTZR alone). */
  codes: string[];
  /** With another provider available, when they differ: the first failure already switches. */
  codesWithFallback?: string[];
  /** The failure must be detected while the audio is still being written (before `end()`). */
  detectedWhileSending?: boolean;
}

const FAULTS: Fault[] = [
  { name: 'authenticate 500 once', inject: (e) => e.faults.failAuth(500), withFallback: 'fallback', codes: ['AUTH_FAILED'] },
  {
    name: 'authenticate timing out once',
    inject: (e) => e.faults.hangAuth(),
    rtzr: { authTimeoutMs: 300 },
    withFallback: 'fallback',
    codes: ['TIMEOUT'],
  },
  { name: 'handshake 503 once', inject: (e) => e.faults.rejectConnections(503), withFallback: 'reconnect', codes: ['CONNECTION_FAILED'] },
  {
    name: '429 twice, then accepted',
    inject: (e) => e.faults.rejectConnections(429, 2),
    withFallback: 'fallback',
    codes: ['RATE_LIMITED', 'RATE_LIMITED'],
    codesWithFallback: ['RATE_LIMITED'],
  },
  {
    name: '429 twice with Retry-After, then accepted',
    inject: (e) => e.faults.rejectConnections(429, 2, { retryAfterSec: 1 }),
    withFallback: 'fallback',
    codes: ['RATE_LIMITED', 'RATE_LIMITED'],
    codesWithFallback: ['RATE_LIMITED'],
  },
  { name: 'a truncated JSON frame', inject: (e) => e.faults.sendMalformed(), withFallback: 'fallback', codes: ['PROVIDER_ERROR'] },
  { name: 'a server error frame (retryable)', inject: (e) => e.faults.sendErrorFrame(), withFallback: 'fallback', codes: ['PROVIDER_ERROR'] },
  {
    name: 'a drop mid-utterance',
    inject: (e) => e.faults.dropAfterAudioMs(4400), // inside utterance 1 (3989–4816 ms)
    withFallback: 'reconnect',
    codes: ['CONNECTION_LOST'],
    detectedWhileSending: true,
  },
  {
    name: 'a silent stall mid-call (pings still answered)',
    inject: (e) => e.faults.stallAfterAudioMs(4400),
    withFallback: 'fallback',
    codes: ['TIMEOUT'],
    detectedWhileSending: true,
  },
  {
    name: 'a stall after EOS',
    inject: (e) => e.faults.stallAfterEos(),
    endAtMs: 9300, // the last utterance (8330–9139 ms) is finalised by EOS, and its final never comes
    withFallback: 'fallback',
    codes: ['TIMEOUT'],
  },
  { name: 'no close after EOS', inject: (e) => e.faults.noCloseAfterEos(), endAtMs: 9300, withFallback: 'none', codes: [] },
];

interface Run {
  summary: StreamSummary;
  reconnects: ReconnectEvent[];
  fallbacks: FallbackEvent[];
  states: StateEvent[];
  finalIds: number[];
  partialIds: number[];
  errors: string[];
  /** Audio written when the first recovery event fired, ms; and whether end() had been called. */
  firstRecoveryAt?: { audioMs: number; ended: boolean };
  rtzr: RtzrEmulator;
  googleRequests: number;
}

async function runCall(config: Config, pace: number, fault: Fault): Promise<Run> {
  const cursor = new ScriptCursor(script); // the call's ground truth, wherever it gets recognised
  const rtzr = await startRtzrEmulator({ script: cursor });
  const google = config === 'with Google fallback' ? await startGoogleEmulator({ script: cursor }) : undefined;
  const recognizer = new StreamingRecognizer({
    providers: [
      new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials, ...fault.rtzr }),
      // one request at a time: the emulator hands out script lines in request arrival order
      ...(google ? [new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 })] : []),
    ],
    reconnect: { retries: 3, minDelayMs: 20, maxDelayMs: 100 },
    fallback: { stallTimeoutMs: STALL_MS },
  });
  try {
    fault.inject(rtzr);
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: END_TIMEOUT_MS });
    const run: Omit<Run, 'summary' | 'rtzr' | 'googleRequests'> = {
      reconnects: [],
      fallbacks: [],
      states: [],
      finalIds: [],
      partialIds: [],
      errors: [],
    };
    let ended = false;
    const recovery = (): void => {
      run.firstRecoveryAt ??= { audioMs: stream.audioMs, ended };
    };
    stream.on('reconnect', (e) => {
      run.reconnects.push(e);
      recovery();
    });
    stream.on('fallback', (e) => {
      run.fallbacks.push(e);
      recovery();
    });
    stream.on('state', (e) => run.states.push(e));
    stream.on('final', (t) => run.finalIds.push(t.utteranceId));
    stream.on('partial', (t) => run.partialIds.push(t.utteranceId));
    stream.on('error', (e) => run.errors.push(e.code));
    const data = fault.endAtMs === undefined ? mulaw8k.data : mulaw8k.data.subarray(0, fault.endAtMs * BPMS);
    await playCall(stream, pace, data);
    ended = true;
    const summary = await stream.end();
    return { ...run, summary, rtzr, googleRequests: google?.counters.recognizeRequests ?? 0 };
  } finally {
    await recognizer.close();
    await rtzr.close();
    await google?.close();
  }
}

function expectAllWords(expect: ExpectStatic, run: Run): void {
  expectGroundTruth(expect, run);
  expect(run.states.at(-1)).toMatchObject({ to: 'closed' });
}

for (const config of ['with Google fallback', 'RTZR alone'] as const) {
  for (const pace of [1, 4]) {
    describe.concurrent(`fault matrix, ${config}, ${pace}x input pace`, () => {
      for (const fault of FAULTS) {
        it(`${fault.name}: every final exactly once, in order, no error`, async ({ expect }) => {
          const run = await runCall(config, pace, fault);
          expectAllWords(expect, run);
          const kind = config === 'RTZR alone' ? (fault.codes.length > 0 ? 'reconnect' : 'none') : fault.withFallback;
          const events = kind === 'fallback' ? run.fallbacks : run.reconnects;
          const codes = config === 'RTZR alone' ? fault.codes : (fault.codesWithFallback ?? fault.codes);
          expect(events.map((e) => [e.reason.code, e.reason.message])).toEqual(codes.map((c) => [c, expect.any(String)]));
          if (kind !== 'fallback') expect(run.fallbacks).toEqual([]);
          if (kind === 'fallback') {
            expect(run.fallbacks.map((f) => [f.from, f.to])).toEqual([['rtzr', 'google']]);
            expect(run.summary.providers).toEqual(['rtzr', 'google']);
            expect(run.googleRequests).toBeGreaterThan(0);
          } else {
            expect(run.summary.providers).toEqual(['rtzr']);
            expect(run.googleRequests).toBe(0);
          }
          expect(run.summary.reconnects).toBe(run.reconnects.length);
          expect(run.summary.fallbacks).toBe(run.fallbacks.length);
          for (const e of run.reconnects) {
            // a server's Retry-After is a floor of the delay before the next attempt (timers may fire ~1 ms early)
            expect(e.delayMs).toBeGreaterThanOrEqual((e.reason.retryAfterMs ?? 0) - 2);
          }
          if (fault.name.includes('Retry-After')) {
            // the provider read the header into the error (seconds → ms)
            for (const e of events) expect(e.reason.retryAfterMs).toBe(1000);
          }
          if (fault.detectedWhileSending) {
            expect(run.firstRecoveryAt?.ended).toBe(false);
            expect(run.firstRecoveryAt!.audioMs).toBeLessThan(truth.durationMs);
          }
          if (fault.codes[0] === 'TIMEOUT' && fault.name.includes('stall')) {
            expect(events[0]!.reason.message).toMatch(/stalled/);
          }
        });
      }
    });
  }
}

describe('fault matrix: RTZR permanently down, no other provider', () => {
  it('fails with a typed error after giveUpAfterMs, not before, and reports every attempt', async ({ expect }) => {
    const GIVE_UP_MS = 1500;
    const rtzr = await startRtzrEmulator({ script });
    const recognizer = new StreamingRecognizer({
      providers: [new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials })],
      reconnect: { retries: 3, minDelayMs: 20, maxDelayMs: 100 },
      fallback: { giveUpAfterMs: GIVE_UP_MS },
    });
    try {
      rtzr.faults.refuseConnections(1_000_000); // every handshake refused
      const started = performance.now();
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      const reconnects: ReconnectEvent[] = [];
      const errors: { code: string; at: number }[] = [];
      stream.on('reconnect', (e) => reconnects.push(e));
      stream.on('error', (e) => errors.push({ code: e.code, at: performance.now() - started }));
      await playCall(stream, 4); // the caller keeps talking; write() stops once the stream failed
      const summary = await stream.end();

      expect(errors.map((e) => e.code)).toEqual(['CONNECTION_FAILED']); // the provider's own error (one provider)
      expect(summary.error).toMatchObject({ code: 'CONNECTION_FAILED', provider: 'rtzr' });
      expect(stream.state).toBe('failed');
      expect(errors[0]!.at).toBeGreaterThanOrEqual(GIVE_UP_MS - 2); // never before the give-up clock ran out
      // every attempt is reported: all refused handshakes but the stream's first connect are reconnects
      expect(reconnects.length).toBeGreaterThan(3); // more than the budget: with no other provider it is not a limit
      expect(reconnects.map((e) => e.attempt)).toEqual(reconnects.map((_, i) => i + 1));
      expect(rtzr.counters.rejectedConnections).toBe(reconnects.length + 1);
      expect(summary.reconnects).toBe(reconnects.length);
      expect(summary.transcripts).toEqual([]);
    } finally {
      await recognizer.close();
      await rtzr.close();
    }
  });
});
