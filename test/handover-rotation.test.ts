/**
 * Rotation before a provider's stream limit: the sample call through `GoogleProvider({ mode:
 * 'streaming' })` alone, v1 and v2, with the emulator ending every gRPC stream after 8 s and the
 * provider declaring `maxStreamMs`/`rotateAfterMs` below it. The stream hands over to a new
 * connection at utterance boundaries (`handover`, reason `rotation`) before Google's limit: partials
 * and every final, none lost or repeated, no error, no reconnect; at live pace and as fast as
 * backpressure allows (the session paces Google's audio at real time itself). Also: any provider
 * can declare the limits (an in-test one), and the recognizer checks them.
 *
 * Each test has its own emulator and recognizer, so the tests run concurrently.
 */
import { describe, it, vi, type ExpectStatic } from 'vitest';
import { ConfigurationError, StreamingRecognizer, type HandoverEvent, type Provider } from '../src/index.js';
import { expectPartials, expectSampleCall, startRig, type GoogleStreamingRig } from './helpers/google-streaming.js';
import { playCall, writeCall } from './helpers/sample-call.js';
import { STREAMING_CAPABILITIES } from './helpers/in-test-provider.js';

/** Google ends a gRPC stream after this long (the emulator's rule); the provider rotates before. */
const LIMIT_MS = 8000;

async function rotatingRig(
  version: 'v1' | 'v2',
  { expect, onTestFinished }: { expect: ExpectStatic; onTestFinished: (fn: () => Promise<void>) => void },
): Promise<GoogleStreamingRig> {
  const r = await startRig(version, {
    emulator: { streamLimitMs: LIMIT_MS },
    provider: { maxStreamMs: 6000, rotateAfterMs: 3000 },
  });
  onTestFinished(async () => {
    await r.recognizer.close();
    try {
      await vi.waitFor(() => expect(r.emulator.counters.openStreams).toBe(0), { timeout: 5000, interval: 20 });
    } finally {
      await r.emulator.close();
    }
  });
  return r;
}

describe.concurrent.each([
  ['v1', 'live pace (1x)'],
  ['v2', 'live pace (1x)'],
  ['v1', 'as fast as backpressure allows'],
  ['v2', 'as fast as backpressure allows'],
] as const)('rotation before Google stream limit: %s, %s', (version, pace) => {
  it('hands over at utterance boundaries before the limit: partials, every final once, no error, no reconnect', async (ctx) => {
    const { expect } = ctx;
    const r = await rotatingRig(version, ctx);
    const { stream, partials, finals } = r.stream();
    const handovers: HandoverEvent[] = [];
    const errors: string[] = [];
    stream.on('handover', (e) => handovers.push(e));
    stream.on('error', (e) => errors.push(e.code));
    if (pace === 'live pace (1x)') await playCall(stream, 1);
    else await writeCall(stream);
    const summary = await stream.end();
    expectSampleCall(summary);
    expectPartials(partials, finals);
    expect(errors).toEqual([]);
    expect(summary.reconnects).toBe(0);
    expect(summary.fallbacks).toBe(0);
    expect(handovers.length).toBeGreaterThanOrEqual(1);
    for (const h of handovers) expect(h).toMatchObject({ from: 'google', to: 'google', reason: 'rotation' });
    expect(summary.handovers).toBe(handovers.length);
    // Google never had to end a stream: each one was handed over (cancelled) or half-closed before its limit
    for (const s of r.emulator.streamsLog) expect(s.status === 'OK' || s.status === 'CANCELLED', JSON.stringify(s)).toBe(true);
    expect(r.emulator.streamsLog.every((s) => s.audioMs < LIMIT_MS)).toBe(true);
    // ids and times continue across the connections
    expect(finals.map((f) => f.utteranceId)).toEqual([0, 1, 2, 3]);
  });
});

describe.concurrent('stream limits declared by any provider', () => {
  it('a provider of your own with maxStreamMs/rotateAfterMs is rotated too, and a forced handover keeps the utterance id', async ({ expect }) => {
    // An in-test provider (the public Provider interface) that never reaches a boundary: its
    // utterance stays open, so the rotation is forced at maxStreamMs.
    const sessions: { aborted: boolean; onResult: (r: import('../src/index.js').ProviderResult) => void }[] = [];
    const provider: Provider = {
      id: 'mine',
      capabilities: { ...STREAMING_CAPABILITIES, interimResults: false },
      maxStreamMs: 1000,
      rotateAfterMs: 500,
      connect: async (req) => {
        const s = { aborted: false, onResult: req.onResult };
        sessions.push(s);
        return {
          costs: { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false },
          bufferedAmount: 0,
          send: (_a, onSent) => onSent?.(),
          finalize: () => {},
          end: () => Promise.resolve('closed' as const),
          abort: () => void (s.aborted = true),
        };
      },
    };
    const recognizer = new StreamingRecognizer({ providers: [provider] });
    try {
      const stream = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
      const handovers: HandoverEvent[] = [];
      const partials: number[] = [];
      stream.on('handover', (e) => handovers.push(e));
      const iterated = (async () => {
        const types: string[] = [];
        for await (const ev of stream) types.push(ev.type);
        return types;
      })();
      stream.on('partial', (t) => partials.push(t.utteranceId));
      const opened = new Promise((resolve) => stream.once('open', resolve));
      stream.write(new Uint8Array(3200)); // 100 ms
      await opened;
      sessions[0]!.onResult({ type: 'partial', segment: 0, text: 'talking', startMs: 0, endMs: 100 });
      await vi.waitFor(() => expect(handovers).toHaveLength(1), { timeout: 5000 });
      expect(handovers[0]).toMatchObject({ from: 'mine', to: 'mine', reason: 'rotation', forced: true, replayedMs: 100 });
      sessions[1]!.onResult({ type: 'final', segment: 7, text: 'talking on', startMs: 0, endMs: 100 });
      const summary = await stream.end();
      expect(summary.transcripts.map((t) => [t.utteranceId, t.text])).toEqual([[0, 'talking on']]);
      expect(partials).toEqual([0]);
      const types = await iterated; // handover events are also yielded by async iteration
      expect(types.filter((t) => t === 'handover')).toHaveLength(handovers.length);
      expect(types.indexOf('handover')).toBeLessThan(types.indexOf('final'));
      await vi.waitFor(() => expect(sessions[0]!.aborted).toBe(true));
    } finally {
      await recognizer.close();
    }
  });

  it('the recognizer rejects stream limits that make no sense', ({ expect }) => {
    const base: Provider = { id: 'x', capabilities: STREAMING_CAPABILITIES, connect: () => Promise.reject(new Error('unused')) };
    expect(() => new StreamingRecognizer({ providers: [{ ...base, maxStreamMs: 10 }] })).toThrow(ConfigurationError);
    expect(() => new StreamingRecognizer({ providers: [{ ...base, maxStreamMs: Number.NaN }] })).toThrow(/maxStreamMs/);
    expect(() => new StreamingRecognizer({ providers: [{ ...base, rotateAfterMs: 1000 }] })).toThrow(/rotateAfterMs needs maxStreamMs/);
    expect(() => new StreamingRecognizer({ providers: [{ ...base, maxStreamMs: 5000, rotateAfterMs: 6000 }] })).toThrow(/rotateAfterMs/);
  });
});
