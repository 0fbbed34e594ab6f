/**
 * `stream.reconfigure()` mid-call against the RTZR emulator (RTZR takes decoder options only in the
 * handshake query, so every change is a new connection): the new handshake carries the new options,
 * no word is lost or repeated, at live pace and 4x, with RTZR alone and with a fallback behind it,
 * requested while the caller keeps writing, twice in a row, racing a drop of the serving
 * connection, and interrupted by end() or abort() (typed rejections, no socket left open).
 *
 * Each test has its own emulators and recognizer, so the tests run concurrently (a 1x call takes
 * the call's 10 s of wall time).
 */
import { describe, it, vi, type ExpectStatic } from 'vitest';
import {
  AbortError,
  ConfigurationError,
  GoogleProvider,
  RtzrProvider,
  StateError,
  StreamingRecognizer,
  type HandoverEvent,
  type Provider,
  type StreamSummary,
} from '../src/index.js';
import type { RecognitionStream } from '../src/stream/recognition-stream.js';
import { ScriptCursor, startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { expectGroundTruth, mulaw8k, playCall, script, TOLERANCE_MS, truth, writeCall, type RecordedCall } from './helpers/sample-call.js';

interface Rig {
  rtzr: RtzrEmulator;
  google?: GoogleEmulator;
  recognizer: StreamingRecognizer;
}

/** Emulators and a recognizer for one test, closed when it finishes: no socket may be left open. */
async function makeRig(
  { expect, onTestFinished }: { expect: ExpectStatic; onTestFinished: (fn: () => Promise<void>) => void },
  withGoogle = false,
): Promise<Rig> {
  const cursor = new ScriptCursor(script); // one call's ground truth, across its connections
  const rtzr = await startRtzrEmulator({ script: cursor });
  const google = withGoogle ? await startGoogleEmulator({ script: cursor }) : undefined;
  const providers: Provider[] = [new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials })];
  if (google) providers.push(new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 }));
  const recognizer = new StreamingRecognizer({ providers, reconnect: { retries: 3, minDelayMs: 20, maxDelayMs: 100 } });
  onTestFinished(async () => {
    await recognizer.close();
    try {
      // whatever happened, no socket is left behind (the server sees the last close a moment after the client)
      await vi.waitFor(() => expect(rtzr.counters.openConnections).toBe(0), { timeout: 5000, interval: 20 });
    } finally {
      await rtzr.close();
      await google?.close();
    }
  });
  return { rtzr, recognizer, ...(google ? { google } : {}) };
}

interface Call extends RecordedCall {
  handovers: HandoverEvent[];
  stream: RecognitionStream;
  done: Promise<StreamSummary>;
}

/** Start the sample call (paced at `speed`, or as fast as backpressure allows) and record it. */
function startCall(r: Rig, speed: number | 'fast'): Call {
  const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: 1500 });
  const call = { handovers: [], errors: [], finalIds: [], partialIds: [], stream } as unknown as Call;
  stream.on('handover', (e) => call.handovers.push(e));
  stream.on('final', (t) => call.finalIds.push(t.utteranceId));
  stream.on('partial', (t) => call.partialIds.push(t.utteranceId));
  stream.on('error', (e) => call.errors.push(e.code));
  call.done = (async () => {
    if (speed === 'fast') await writeCall(stream);
    else await playCall(stream, speed);
    return stream.end();
  })();
  return call;
}

/** Resolves at the first partial of utterance `id` (mid-utterance: a handover then waits for its final). */
function partialOf(stream: RecognitionStream, id: number): Promise<void> {
  return new Promise((resolve) => {
    const on = (t: { utteranceId: number }): void => {
      if (t.utteranceId !== id) return;
      stream.off('partial', on);
      resolve();
    };
    stream.on('partial', on);
  });
}

const connectionQueries = (r: Rig) => r.rtzr.connectionsLog.map((c) => c.query);

describe.concurrent.each([
  ['live pace (1x)', 1],
  ['4x real time', 4],
] as const)('reconfigure({ keywords }) mid-call on RTZR, %s', (_label, speed) => {
  it('the new handshake carries the keywords; every final exactly once, in order; the old connection closed', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, speed);
    await partialOf(call.stream, 1); // in the middle of utterance 1, while the caller keeps writing
    const reconfigured = call.stream.reconfigure({ keywords: ['상담원', ['예약', 3]] });
    await reconfigured;
    // it resolved once the new connection carried the stream, at the end of utterance 1
    expect(call.finalIds).toEqual([0, 1]);
    expect(call.handovers).toEqual([{ from: 'rtzr', to: 'rtzr', reason: 'reconfigure', forced: false, replayedMs: expect.any(Number) }]);
    expect(call.handovers[0]!.replayedMs).toBeLessThan(2000); // the audio after the last final, not the call
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(summary.providers).toEqual(['rtzr']);
    expect(summary.handovers).toBe(1);
    expect(summary.reconnects).toBe(0);
    const queries = connectionQueries(r);
    expect(queries).toHaveLength(2);
    expect(queries[0]!.keywords).toBeUndefined();
    expect(queries[1]!.keywords).toBe('상담원,예약:3');
    expect(r.rtzr.connectionsLog[0]!.closedAt).toBeDefined();
    // the transcripts say which settings' connection produced them: utterances 2 and 3 came from the new one
    expect(summary.transcripts.map((t) => t.provider)).toEqual(['rtzr', 'rtzr', 'rtzr', 'rtzr']);
  });

  it('with a fallback provider behind RTZR: the same, and the fallback is never used', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx, true);
    const call = startCall(r, speed);
    await partialOf(call.stream, 1);
    await call.stream.reconfigure({ keywords: ['상담원'], providerOptions: { rtzr: { epdTime: 0.6 } } });
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(summary.providers).toEqual(['rtzr']);
    expect(r.google!.counters.recognizeRequests).toBe(0);
    expect(connectionQueries(r)[1]).toMatchObject({ keywords: '상담원', epd_time: '0.6' });
  });
});

describe.concurrent('reconfigure(): more configurations', () => {
  it('reconfigured in a long pause: switches at once and replays 1 s of the pause, not all of it', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const stream = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const handovers: HandoverEvent[] = [];
    stream.on('handover', (e) => handovers.push(e));
    const PAUSE_MS = 6000;
    const cut = 3500 * 8; // in the pause after utterance 0 (it ends at 2589 ms)
    await playCall(stream, 4, mulaw8k.data.subarray(0, cut));
    await playCall(stream, 4, new Uint8Array(PAUSE_MS * 8).fill(0xff)); // 6 s of digital silence
    await stream.reconfigure({ keywords: ['상담원'] }); // 9.5 s into the call, 7 s after the last final
    expect(handovers).toEqual([{ from: 'rtzr', to: 'rtzr', reason: 'reconfigure', forced: false, replayedMs: 1000 }]);
    await playCall(stream, 4, mulaw8k.data.subarray(cut));
    const summary = await stream.end();
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    summary.transcripts.forEach((t, i) => {
      const shift = i === 0 ? 0 : PAUSE_MS;
      expect(Math.abs(t.startMs - (truth.utterances[i]!.startMs + shift))).toBeLessThanOrEqual(TOLERANCE_MS);
      expect(Math.abs(t.endMs - (truth.utterances[i]!.endMs + shift))).toBeLessThanOrEqual(TOLERANCE_MS);
    });
    expect(r.rtzr.connectionsLog[1]!.audioMs).toBeCloseTo(1000 + truth.durationMs - 3500, -1);
  });

  it('reconfigured in a pause between utterances: switches at once', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 4);
    await new Promise<void>((resolve) => call.stream.once('final', () => resolve()));
    await call.stream.reconfigure({ keywords: ['상담원'] });
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(call.handovers.map((h) => [h.reason, h.forced])).toEqual([['reconfigure', false]]);
    expect(connectionQueries(r).at(-1)!.keywords).toBe('상담원');
  });

  it('language and interimResults: the new connection is opened with them; partials stop and finals carry the new language from the switch on', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 4);
    const partials: { id: number; language?: string }[] = [];
    call.stream.on('partial', (t) => partials.push({ id: t.utteranceId, ...(t.language ? { language: t.language } : {}) }));
    await new Promise<void>((resolve) => call.stream.once('final', () => resolve()));
    await call.stream.reconfigure({ interimResults: false, language: 'ko-KR-x-agent' });
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(summary.transcripts.map((t) => t.language)).toEqual(['ko-KR', 'ko-KR-x-agent', 'ko-KR-x-agent', 'ko-KR-x-agent']);
    expect(partials.some((p) => p.id === 0)).toBe(true);
    expect(partials.filter((p) => p.id > 0)).toEqual([]); // none from the new connection
  });

  it('twice in a row: the calls merge (or follow each other); the last connection has both changes', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 1);
    await partialOf(call.stream, 1);
    const first = call.stream.reconfigure({ keywords: ['상담원'] });
    const second = call.stream.reconfigure({ providerOptions: { rtzr: { useItn: false } } });
    await Promise.all([first, second]);
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(call.handovers).toHaveLength(1); // merged into one handover
    expect(connectionQueries(r).at(-1)).toMatchObject({ keywords: '상담원', use_itn: 'false' });
    // a third, later one starts from the settings in use
    expect(summary.handovers).toBe(1);
  });

  it('racing a drop of the serving connection: recovered (reconnect + replay), then the handover completes; no word lost', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 1);
    await partialOf(call.stream, 1);
    const served = r.rtzr.connectionsLog[0]!.audioMs;
    r.rtzr.faults.dropAfterAudioMs(served + 200); // the serving connection drops while the new one waits for a boundary
    const reconnects: string[] = [];
    call.stream.on('reconnect', (e) => reconnects.push(e.reason.code));
    await call.stream.reconfigure({ keywords: ['상담원'] });
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(reconnects).toEqual(['CONNECTION_LOST']);
    expect(summary.handovers).toBe(1);
    expect(connectionQueries(r).at(-1)!.keywords).toBe('상담원');
  });

  it('the new connection refused more than reconnect.retries times: reconfigure() rejects with its error; the serving connection never notices', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 4);
    const reconnects: string[] = [];
    call.stream.on('reconnect', (e) => reconnects.push(e.reason.code));
    await partialOf(call.stream, 1);
    r.rtzr.faults.rejectConnections(500, 4); // the first try and its 3 retries
    const reconfigured = call.stream.reconfigure({ keywords: ['상담원'] });
    await expect(reconfigured).rejects.toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(reconnects).toEqual([]);
    expect(summary.handovers).toBe(0);
    expect(r.rtzr.connectionsLog.map((c) => c.query.keywords)).toEqual([undefined]); // the call stayed on its first connection
    expect(r.rtzr.counters.rejectedConnections).toBe(4);
  });

  it('end() before the switch: reconfigure() rejects with StateError; end() still has every final', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 4);
    await partialOf(call.stream, 3); // in the last utterance
    r.rtzr.setLatency({ connectMs: 1500 }); // the connection opened ahead is still connecting at end()
    const reconfigured = call.stream.reconfigure({ keywords: ['상담원'] });
    reconfigured.catch(() => {}); // checked below, after the call
    const summary = await call.done;
    await expect(reconfigured).rejects.toBeInstanceOf(StateError);
    await expect(reconfigured).rejects.toThrow(/ended before a new connection took over/);
    expectGroundTruth(expect, { ...call, summary });
    expect(summary.handovers).toBe(0);
  });

  it('abort() during a handover: reconfigure() rejects with AbortError, both connections closed', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 1);
    await partialOf(call.stream, 1);
    const reconfigured = call.stream.reconfigure({ keywords: ['상담원'] });
    await new Promise((resolve) => setTimeout(resolve, 50)); // opened ahead, waiting for the boundary
    call.stream.abort('caller hung up');
    await expect(reconfigured).rejects.toBeInstanceOf(AbortError);
    const summary = await call.done;
    expect(summary.error).toBeInstanceOf(AbortError);
    expect(summary.handovers).toBe(0);
  });

  it('invalid options reject with ConfigurationError and leave the stream as it was; a stream that ended or failed rejects with StateError', async (ctx) => {
    const { expect } = ctx;
    const r = await makeRig(ctx);
    const call = startCall(r, 4);
    const s = call.stream;
    await expect(s.reconfigure({ keywords: ['hello'] })).rejects.toBeInstanceOf(ConfigurationError); // RTZR: Hangul only
    await expect(s.reconfigure({ providerOptions: { rtzr: { epdTime: 99 } } })).rejects.toThrow(/epdTime/);
    await expect(s.reconfigure({ providerOptions: { rtzr: { clientSecret: 'x' } } })).rejects.toThrow(/takes no per-stream option "clientSecret"/);
    await expect(s.reconfigure({ providerOptions: { deepgram: {} } })).rejects.toThrow(/no provider "deepgram"/);
    await expect(s.reconfigure({ language: '' })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(s.reconfigure({ keyword: ['상담원'] } as never)).rejects.toThrow(/unknown option "keyword"/);
    await expect(s.reconfigure({})).resolves.toBeUndefined(); // nothing changes: no new connection
    const summary = await call.done;
    expectGroundTruth(expect, { ...call, summary });
    expect(summary.handovers).toBe(0);
    expect(r.rtzr.connectionsLog).toHaveLength(1);
    const ended = s.reconfigure({ keywords: ['상담원'] });
    await expect(ended).rejects.toBeInstanceOf(StateError);
    await expect(ended).rejects.toThrow(/closed/);

    // a failed stream
    r.rtzr.faults.expireTokens();
    r.rtzr.faults.failAuth(401); // the handshake's 401 forces a token refresh, which is refused
    const failing = r.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    failing.on('error', () => {});
    const failed = await failing.end();
    expect(failed.error?.code).toBe('AUTH_FAILED');
    await expect(failing.reconfigure({ keywords: ['상담원'] })).rejects.toBeInstanceOf(StateError);
  });
});
