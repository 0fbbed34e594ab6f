/**
 * `GoogleProvider({ mode: 'streaming' })` recovering from what ends a gRPC stream (Google's stream
 * limit, its audio timeout, UNAVAILABLE) through the stream's reconnect-with-replay path.
 */
import { describe, expect, it, vi } from 'vitest';
import { mulaw8k, playCall, writeCall } from './helpers/sample-call.js';
import { at, expectSampleCall, rigsClosedAfterEach } from './helpers/google-streaming.js';

const rig = rigsClosedAfterEach();

describe('GoogleProvider streaming mode: a gRPC stream ended by Google', () => {
  it('without the keep-alive, the audio timeout ends the stream and the reconnect replays what was not final: nothing lost', async () => {
    const r = await rig('v1', { emulator: { audioTimeoutMs: 800 }, provider: { streamIdleMs: 60_000 } });
    const { stream } = r.stream();
    await writeCall(stream, mulaw8k.data.subarray(0, at(5000)));
    await vi.waitFor(() => expect(r.emulator.streamsLog[0]?.status).toBe('OUT_OF_RANGE'), { timeout: 15_000, interval: 50 });
    await writeCall(stream, mulaw8k.data.subarray(at(5000)));
    const summary = await stream.end();
    expectSampleCall(summary);
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("Google's stream limit (OUT_OF_RANGE) mid-utterance: a retryable error, the reconnect replays from the last final, every final once", async () => {
    // At 4x input the session sends a 3 s burst, then real time: at 5.7 s of wall time Google has
    // ~8.7 s of audio, inside the last utterance (8.3–9.1 s).
    const r = await rig('v1', { emulator: { streamLimitMs: 5700 } });
    const { stream } = r.stream();
    const reconnects: string[] = [];
    stream.on('reconnect', (e) => reconnects.push(`${e.reason.code}:${String(e.reason.retryable)}:${e.reason.providerCode}`));
    await playCall(stream, 4);
    const summary = await stream.end();
    expectSampleCall(summary);
    expect(reconnects).toEqual(['CONNECTION_LOST:true:OUT_OF_RANGE']);
    expect(r.emulator.streamsLog[0]).toMatchObject({ status: 'OUT_OF_RANGE', details: expect.stringMatching(/maximum allowed stream duration/) });
  });

  it('UNAVAILABLE mid-utterance: reconnect and replay, the utterance keeps its id, no final repeated', async () => {
    const r = await rig('v2');
    r.emulator.faults.failAfterAudioMs(6500, 'UNAVAILABLE'); // inside utterance 2 (6.2–6.9 s)
    const { stream, partials } = r.stream();
    await writeCall(stream);
    const summary = await stream.end();
    expectSampleCall(summary);
    expect(summary.reconnects).toBe(1);
    expect(new Set(partials.map((p) => p.utteranceId))).toEqual(new Set([0, 1, 2, 3]));
  });

});
