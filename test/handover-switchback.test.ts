/**
 * Switch-back (`fallback.switchBack`): RTZR drops mid-call (its emulator is killed) with Google
 * streaming second; finals continue from Google with partials; RTZR comes back (the emulator is
 * restarted on the same port, its recovery probe succeeds) and the same stream hands back to RTZR
 * at the next utterance boundary. Every final exactly once across both switches, in order, times
 * within tolerance; at live pace and 4x. With `switchBack: false` the stream stays on Google.
 *
 * Each test has its own emulators and recognizer, so the tests run concurrently.
 */
import { describe, it, vi, type ExpectStatic } from 'vitest';
import {
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  type AvailabilityEvent,
  type FallbackEvent,
  type HandoverEvent,
  type Transcript,
} from '../src/index.js';
import {
  ScriptCursor,
  startGoogleStreamingEmulator,
  startRtzrEmulator,
  type GoogleStreamingEmulator,
  type RtzrEmulator,
} from '../src/testing/index.js';
import { expectGroundTruth, playCall, script, type RecordedCall } from './helpers/sample-call.js';

interface Rig {
  recognizer: StreamingRecognizer;
  google: GoogleStreamingEmulator;
  /** The RTZR emulator now (a new one after the restart). */
  rtzr(): RtzrEmulator;
  /** Kill the RTZR emulator (sockets dropped, port closed). */
  kill(): Promise<void>;
  /** Start it again on the same port. */
  restart(): Promise<void>;
  availability: AvailabilityEvent[];
}

async function makeRig(
  { expect, onTestFinished }: { expect: ExpectStatic; onTestFinished: (fn: () => Promise<void>) => void },
  switchBack: boolean,
): Promise<Rig> {
  const cursor = new ScriptCursor(script); // the call's ground truth, whichever provider hears it
  let rtzr = await startRtzrEmulator({ script: cursor });
  const port = Number(new URL(rtzr.apiBase).port);
  const google = await startGoogleStreamingEmulator({ script: cursor });
  const recognizer = new StreamingRecognizer({
    providers: [
      new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials }),
      new GoogleProvider({ mode: 'streaming', endpoint: google.endpoint, version: 'v2', projectId: 'demo' }),
    ],
    reconnect: { retries: 2, minDelayMs: 20, maxDelayMs: 100 },
    fallback: { recoveryCooldownMs: 300, switchBack },
  });
  const availability: AvailabilityEvent[] = [];
  recognizer.on('availability', (e) => availability.push(e));
  let alive = true;
  onTestFinished(async () => {
    await recognizer.close();
    try {
      await vi.waitFor(
        () => {
          expect(rtzr.counters.openConnections).toBe(0);
          expect(google.counters.openStreams).toBe(0);
        },
        { timeout: 5000, interval: 20 },
      );
    } finally {
      await rtzr.close();
      await google.close();
    }
  });
  return {
    recognizer,
    google,
    availability,
    rtzr: () => rtzr,
    async kill() {
      alive = false;
      await rtzr.close();
    },
    async restart() {
      if (alive) return;
      alive = true;
      rtzr = await startRtzrEmulator({ script: cursor, port, credentials: rtzr.credentials });
    },
  };
}

interface Outage extends RecordedCall {
  finals: Transcript[];
  partials: Transcript[];
  fallbacks: FallbackEvent[];
  handovers: HandoverEvent[];
}

/** The sample call at `speed`; RTZR dies at the first partial of utterance 1 and restarts as the stream falls back. */
async function callThroughOutage(r: Rig, speed: number): Promise<Outage> {
  const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: 3000 });
  const run = { finals: [], partials: [], fallbacks: [], handovers: [], errors: [], finalIds: [], partialIds: [] } as unknown as Outage;
  let killed = false;
  stream.on('partial', (t) => {
    run.partials.push(t);
    run.partialIds.push(t.utteranceId);
    if (t.utteranceId === 1 && !killed) {
      killed = true; // in the middle of utterance 1, on RTZR
      void r.kill();
    }
  });
  stream.on('final', (t) => {
    run.finals.push(t);
    run.finalIds.push(t.utteranceId);
  });
  stream.on('fallback', (e) => {
    run.fallbacks.push(e);
    void r.restart(); // a server restart: back a moment later
  });
  stream.on('handover', (e) => run.handovers.push(e));
  stream.on('error', (e) => run.errors.push(e.code));
  await playCall(stream, speed);
  return { ...run, summary: await stream.end() };
}

describe.concurrent.each([
  ['live pace (1x)', 1],
  ['4x real time', 4],
] as const)('switch-back after a fallback, %s', (_label, speed) => {
  it('RTZR drops: finals continue from Google with partials; RTZR recovers: the same stream hands back at the next boundary', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx, true);
    const run = await callThroughOutage(r, speed);
    expectGroundTruth(expect, run);
    expect(run.fallbacks.map((f) => [f.from, f.to])).toEqual([['rtzr', 'google']]);
    expect(run.handovers).toEqual([{ from: 'google', to: 'rtzr', reason: 'switchback', forced: false, replayedMs: expect.any(Number) }]);
    expect(run.summary.providers).toEqual(['rtzr', 'google', 'rtzr']);
    expect(run.summary.handovers).toBe(1);
    // who produced what: RTZR before the drop, Google (with partials) during it, RTZR again after the switch-back
    const by = run.finals.map((f) => f.provider);
    expect(by[0]).toBe('rtzr');
    expect(by[1]).toBe('google');
    expect(by.at(-1)).toBe('rtzr');
    expect(by.indexOf('rtzr', 1)).toBe(by.lastIndexOf('google') + 1); // one switch back, no flapping
    for (const f of run.finals.filter((x) => x.provider === 'google')) {
      expect(run.partials.some((p) => p.utteranceId === f.utteranceId && p.provider === 'google')).toBe(true);
    }
    expect(r.availability.map((a) => [a.provider, a.available])).toEqual([
      ['rtzr', false],
      ['rtzr', true],
    ]);
    expect(r.rtzr().connectionsLog.length).toBeGreaterThanOrEqual(2); // the probe, then the stream
  });
});

describe.concurrent('switch-back disabled', () => {
  it('switchBack: false: RTZR recovers for new streams, the call stays on Google', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx, false);
    const run = await callThroughOutage(r, 1);
    expectGroundTruth(expect, run);
    expect(run.handovers).toEqual([]);
    expect(run.summary.providers).toEqual(['rtzr', 'google']);
    expect(run.finals.slice(1).every((f) => f.provider === 'google')).toBe(true);
    expect(r.availability.map((a) => [a.provider, a.available])).toEqual([
      ['rtzr', false],
      ['rtzr', true],
    ]);
    expect(r.recognizer.isAvailable('rtzr')).toBe(true);
  });
});
