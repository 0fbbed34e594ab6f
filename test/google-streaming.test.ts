/**
 * `GoogleProvider({ mode: 'streaming' })` alone, v1 and v2, against the gRPC streaming emulator:
 * live pace and faster than real time, finalize(), idle gaps, Google's stream limit.
 */
import { describe, expect, it, vi } from 'vitest';
import { frames, mulaw8k, playCall, truth, writeCall } from './helpers/sample-call.js';
import { at, expectPartials, expectSampleCall, rigsClosedAfterEach, type GoogleStreamingRig } from './helpers/google-streaming.js';

const rig = rigsClosedAfterEach();

describe('GoogleProvider streaming mode: the sample call', () => {
  it('v1 and v2 at live pace: partials and every final on the stream timeline, with the documented requests', async () => {
    const [v1, v2] = await Promise.all([rig('v1'), rig('v2')]);
    const calls = [v1, v2].map(async (r) => {
      const { stream, partials, finals } = r.stream();
      await playCall(stream, 1);
      const summary = await stream.end();
      return { summary, partials, finals };
    });
    const [a, b] = await Promise.all(calls);
    for (const c of [a!, b!]) {
      expectSampleCall(c.summary);
      expectPartials(c.partials, c.finals);
      expect(c.summary.reconnects).toBe(0);
    }
    expect(v1.emulator.requests[0]).toEqual({
      version: 'v1',
      streamingConfig: {
        config: {
          encoding: 'MULAW',
          sampleRateHertz: 8000,
          audioChannelCount: 1,
          languageCode: 'ko-KR',
          maxAlternatives: 1,
          enableWordTimeOffsets: true,
          enableAutomaticPunctuation: true,
        },
        interimResults: true,
        singleUtterance: false,
      },
    });
    expect(v2.emulator.requests[0]).toEqual({
      version: 'v2',
      recognizer: 'projects/demo/locations/global/recognizers/_',
      streamingConfig: {
        config: {
          explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
          languageCodes: ['ko-KR'],
          model: 'long',
          features: { enableAutomaticPunctuation: true, maxAlternatives: 1, enableWordTimeOffsets: true },
        },
        streamingFeatures: { interimResults: true },
      },
    });
    for (const r of [v1, v2]) expect(r.emulator.streamsLog).toEqual([expect.objectContaining({ status: 'OK', audioMs: truth.durationMs })]);
  });

  it('faster than real time (4x, and as fast as backpressure allows; with and without interim results): the session paces, Google never sees audio too fast', async () => {
    const [v1, v2] = await Promise.all([rig('v1'), rig('v2')]);
    const run = async (r: GoogleStreamingRig, write: (s: ReturnType<GoogleStreamingRig['stream']>['stream']) => Promise<void>) => {
      const { stream, partials, finals } = r.stream();
      let refused = 0;
      const original = stream.write.bind(stream);
      stream.write = (chunk) => {
        const ok = original(chunk);
        if (!ok) refused++;
        return ok;
      };
      await write(stream);
      const summary = await stream.end();
      return { summary, partials, finals, refused };
    };
    const quiet = await rig('v1');
    const [a, b, c] = await Promise.all([
      run(v1, (s) => playCall(s, 4)),
      run(v2, (s) => writeCall(s)),
      (async () => {
        const stream = quiet.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, interimResults: false });
        let partials = 0;
        stream.on('partial', () => partials++);
        await writeCall(stream);
        return { summary: await stream.end(), partials };
      })(),
    ]);
    for (const x of [a, b]) {
      expectSampleCall(x.summary);
      expectPartials(x.partials, x.finals);
    }
    expectSampleCall(c.summary); // interimResults: false: every final, no partial event
    expect(c.partials).toBe(0);
    expect(b.refused).toBeGreaterThan(0); // backpressure followed Google's pace
    for (const r of [v1, v2]) {
      expect(r.emulator.streamsLog).toEqual([expect.objectContaining({ status: 'OK', audioMs: truth.durationMs })]);
      expect(r.emulator.streamsLog[0]!.maxAheadMs).toBeLessThanOrEqual(5000); // the emulator's (Google's) rule held
    }
  });

  it('finalize() half-closes the gRPC stream so the final comes now, opens the next one ahead, and keeps one timeline', async () => {
    const r = await rig('v1', { emulator: { silenceMs: 1000 } }); // EPD longer than the pause: only finalize() can end utterance 0
    const { stream, finals } = r.stream();
    const gotFirst = new Promise<void>((resolve) => stream.once('final', () => resolve()));
    for (const f of frames(mulaw8k.data.subarray(0, at(3000)), 160)) stream.write(f);
    stream.finalize();
    await gotFirst;
    expect(finals[0]).toMatchObject({ text: truth.utterances[0]!.text, utteranceId: 0 });
    expect(r.emulator.streamsLog[0]).toMatchObject({ id: 1, status: 'OK', audioMs: 3000 });
    // The next gRPC stream is opened ahead, before any more audio is written.
    await vi.waitFor(() => expect(r.emulator.counters.streams).toBe(2), { interval: 10 });
    await writeCall(stream, mulaw8k.data.subarray(at(3000)));
    const summary = await stream.end();
    expectSampleCall(summary); // utterances 1-3 came from the second gRPC stream, shifted by 3000 ms
    expect(r.emulator.streamsLog.map((s) => s.status)).toEqual(['OK', 'OK']);
  });

  it('an idle gap longer than Google\'s audio timeout mid-call: the idle gRPC stream is closed, the next audio opens a new one, no error', async () => {
    const r = await rig('v2', { emulator: { audioTimeoutMs: 1500 }, provider: { streamIdleMs: 300 } });
    const { stream } = r.stream();
    await writeCall(stream, mulaw8k.data.subarray(0, at(5000)));
    // The session sends the queued audio at real time, then goes quiet: its stream must be closed
    // cleanly, and the gap must outlast the emulator's audio timeout.
    await vi.waitFor(() => expect(r.emulator.streamsLog).toHaveLength(1), { timeout: 15_000, interval: 50 });
    await new Promise((resolve) => setTimeout(resolve, 1800));
    expect(r.emulator.counters.openStreams).toBe(0);
    await writeCall(stream, mulaw8k.data.subarray(at(5000)));
    const summary = await stream.end();
    expectSampleCall(summary);
    expect(summary.reconnects).toBe(0);
    expect(r.emulator.streamsLog.map((s) => s.status)).toEqual(['OK', 'OK']);
  });
});
