/**
 * The contract's "Rules for write()" (spec §2), one describe per rule, against the real RTZR
 * emulator with the sample call: a live audio source cannot know the exact moment a stream ended
 * or failed, so write() must never take the process down.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AudioFormatError,
  ConfigurationError,
  FasterWhisperProvider,
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  WhisperLiveProvider,
  pcm16ToFloat32,
  type Logger,
  type RecognitionEvent,
  type StreamSummary,
  type StreamWarning,
} from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { frames, linear16k, mulaw8k, playCall, script, writeCall } from './helpers/sample-call.js';

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;
const L16 = { encoding: 'linear16', sampleRate: 16000 } as const;

let emulator: RtzrEmulator;
let recognizer: StreamingRecognizer;
let logs: { level: string; message: string }[];

function provider(extra: ConstructorParameters<typeof RtzrProvider>[0] = {}): RtzrProvider {
  return new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    ...extra,
  });
}

const recordingLogger = (): Logger => ({
  debug: (message) => logs.push({ level: 'debug', message }),
  info: (message) => logs.push({ level: 'info', message }),
  warn: (message) => logs.push({ level: 'warn', message }),
  error: (message) => logs.push({ level: 'error', message }),
});

beforeEach(async () => {
  logs = [];
  emulator = await startRtzrEmulator({ script });
  recognizer = new StreamingRecognizer({ providers: [provider()], logger: recordingLogger() });
});

afterEach(async () => {
  await recognizer.close();
  await emulator.close();
});

const frame = (n = 160): Uint8Array => new Uint8Array(n).fill(0xff); // n samples of mu-law silence
const droppedLogs = () => logs.filter((l) => l.message.includes('write() after the stream ended'));

describe('§2 rule 1: write() never throws because of the stream state', () => {
  it('after end(): returns false, drops the chunk, counts it in droppedMs, logs once', async () => {
    const s = recognizer.stream({ audio: MULAW });
    expect(s.write(frame())).toBe(true);
    const ended = s.end();
    expect(s.state).toBe('ending');
    expect(s.write(frame(160))).toBe(false); // 20 ms while ending
    const summary = await ended;
    expect(summary.error).toBeUndefined();
    expect(summary.audioMs).toBe(20);
    expect(summary.droppedMs).toBe(20);
    // after close: still no throw; the same summary keeps counting
    expect(s.write(frame(80))).toBe(false);
    expect(s.write(new Uint8Array(0))).toBe(false);
    expect(summary.droppedMs).toBe(30);
    expect(s.droppedMs).toBe(30);
    expect(await s.end()).toBe(summary);
    expect(droppedLogs()).toHaveLength(1);
  });

  it('after abort() and after the AbortSignal fired', async () => {
    const a = recognizer.stream({ audio: MULAW });
    a.abort();
    expect(a.write(frame())).toBe(false);
    expect((await a.end()).droppedMs).toBe(20);

    const ac = new AbortController();
    const b = recognizer.stream({ audio: MULAW, signal: ac.signal });
    b.write(frame());
    ac.abort(new Error('caller hung up'));
    expect(b.state).toBe('closed');
    expect(b.write(frame())).toBe(false);
    const summary = await b.end();
    expect(summary.error).toMatchObject({ code: 'ABORTED' });
    expect(summary.droppedMs).toBe(20);
  });

  it.each([
    ['one provider', ['rtzr'], 'AUTH_FAILED'],
    ['two providers, both failing', ['rtzr-a', 'rtzr-b'], 'ALL_PROVIDERS_FAILED'],
  ])('a failed stream (%s): writes from its own error and close listeners and from a media source that keeps going; the process lives', async (_name, ids, code) => {
    emulator.faults.failAuth(401, 1000); // credentials rejected: the stream fails
    await recognizer.close();
    recognizer = new StreamingRecognizer({ providers: ids.map((id) => provider({ id })), logger: recordingLogger() });
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown): void => void uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    try {
      const s = recognizer.stream({ audio: MULAW });
      const media = new EventEmitter(); // the README's pattern: twilioSocket.on('media', (frame) => stream.write(frame))
      const refusedMs: number[] = [];
      media.on('media', (f: Uint8Array) => {
        const writable = s.state === 'connecting' || s.state === 'open';
        const ok = s.write(f);
        if (!writable) {
          expect(ok).toBe(false);
          refusedMs.push(f.byteLength / 8);
        }
      });
      const fromListeners: boolean[] = [];
      s.on('error', () => fromListeners.push(s.write(frame())));
      s.on('close', () => fromListeners.push(s.write(frame())));
      let summary: StreamSummary | undefined;
      s.on('close', (x) => (summary = x));
      // the caller's audio keeps flowing at 4x real time, well past the failure
      for (const f of frames(mulaw8k.data.subarray(0, 8000 * 3), 160)) {
        media.emit('media', f);
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(s.state).toBe('failed');
      expect(fromListeners).toEqual([false, false]);
      expect(summary?.error).toMatchObject({ code });
      expect(refusedMs.length).toBeGreaterThan(0);
      const total = refusedMs.reduce((a, b) => a + b, 0) + 40; // + the two listener writes
      expect(summary?.droppedMs).toBe(total);
      expect(droppedLogs()).toHaveLength(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});

describe('§2 rule 2: AudioFormatError only for a chunk that can never be audio', () => {
  const bad: [string, unknown][] = [
    ['a string', 'hello'],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['an array', [1, 2, 3]],
    ['an object', { length: 2 }],
    ['a Uint16Array', new Uint16Array(4)],
  ];

  it('throws INVALID_AUDIO for non-binary chunks, naming what it got, and keeps nothing of them', () => {
    const s = recognizer.stream({ audio: L16 });
    for (const [kind, chunk] of bad) {
      let caught: unknown;
      try {
        s.write(chunk as never);
      } catch (e) {
        caught = e;
      }
      expect(caught, kind).toBeInstanceOf(AudioFormatError);
      expect((caught as AudioFormatError).code).toBe('INVALID_AUDIO');
    }
    expect(() => s.write(new Uint16Array(4) as never)).toThrow(/Uint16Array/);
    expect(s.audioMs).toBe(0);
    s.abort();
  });

  it('throws for a typed array that does not match the encoding (Int16Array on mu-law, Float32Array on LINEAR16)', () => {
    const m = recognizer.stream({ audio: MULAW });
    expect(() => m.write(new Int16Array(160))).toThrow(AudioFormatError);
    expect(() => m.write(new Float32Array(160))).toThrow(/Float32Array/);
    const l = recognizer.stream({ audio: L16 });
    expect(() => l.write(new Float32Array(160))).toThrow(AudioFormatError);
    expect(l.write(new Int16Array(320))).toBe(true);
    expect(m.audioMs).toBe(0);
    expect(l.audioMs).toBe(20);
    m.abort();
    l.abort();
  });

  it('the same chunk is refused the same way after the stream ended: bad input throws, state never does', async () => {
    const s = recognizer.stream({ audio: MULAW });
    await s.end();
    expect(() => s.write('x' as never)).toThrow(AudioFormatError);
    expect(s.write(frame())).toBe(false);
  });
});

/** The 16 kHz LINEAR16 call in chunks whose sizes cycle through `sizes` (odd ones split samples). */
function* oddChunks(data: Uint8Array, sizes: number[]): Generator<Uint8Array> {
  let i = 0;
  for (let off = 0; off < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield data.subarray(off, Math.min(off + n, data.length));
    off += n;
  }
}

describe('§2 rule 3: chunk boundaries need not fall on sample boundaries', () => {
  it('odd-length LINEAR16 chunks as fast as backpressure allows: every final, no audio lost', async () => {
    const s = recognizer.stream({ audio: L16 });
    const summary = await s.pipeFrom(oddChunks(linear16k.data, [641, 1, 638, 3, 997, 1280]));
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(summary.audioMs).toBe(Math.round(linear16k.data.length / 32));
    expect(summary.droppedMs).toBe(0);
    expect(emulator.counters.audioBytes).toBe(linear16k.data.length);
  });

  it.each([
    [1, 3500, 1],
    [4, Infinity, script.length],
  ])('odd-length LINEAR16 chunks at %dx live pace (a raw PCM socket): every final', async (speed, ms, finals) => {
    const s = recognizer.stream({ audio: L16 });
    const started = performance.now();
    let sentMs = 0;
    for (const c of oddChunks(linear16k.data.subarray(0, Math.min(linear16k.data.length, ms * 32)), [641, 639])) {
      expect(s.write(c)).toBe(true);
      sentMs += c.byteLength / 32;
      const wait = started + sentMs / speed - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    const summary = await s.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script.slice(0, finals));
    expect(summary.droppedMs).toBe(0);
  });

  it('float32 chunks that are not a multiple of 4 bytes: every final', async () => {
    const pcm = linear16k.data;
    const f32 = pcm16ToFloat32(new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength)));
    const bytes = new Uint8Array(f32.buffer, f32.byteOffset, f32.byteLength);
    const s = recognizer.stream({ audio: { encoding: 'float32', sampleRate: 16000 } });
    const summary = await s.pipeFrom(oddChunks(bytes, [1283, 7, 1, 2, 2563]));
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(summary.audioMs).toBe(Math.round(f32.length / 16));
    expect(summary.droppedMs).toBe(0);
  });

  it('a partial sample left at end() is dropped and counted (to the microsecond)', async () => {
    const l = recognizer.stream({ audio: L16 });
    expect(l.write(new Uint8Array(641))).toBe(true); // 320 samples + 1 byte
    expect(l.audioMs).toBe(20);
    const ls = await l.end();
    expect(ls.audioMs).toBe(20);
    expect(ls.droppedMs).toBe(0.031); // 1 byte of 32 bytes/ms

    const f = recognizer.stream({ audio: { encoding: 'float32', sampleRate: 16000 } });
    f.write(new Uint8Array(3));
    expect(f.audioMs).toBe(0);
    expect((await f.end()).droppedMs).toBe(0.047); // 3 bytes of 64 bytes/ms
  });

  it('a partial sample is completed by the next chunk, whatever its type', async () => {
    const s = recognizer.stream({ audio: L16 });
    s.write(new Uint8Array([0x01]));
    s.write(new Int16Array([0x7f7f, 0x0202])); // whole samples, shifted by the held byte
    s.write(Buffer.from([0x03]));
    expect(s.audioMs).toBe(6 / 32); // 3 whole samples: 0x01 + the Int16Array's 4 bytes + 0x03
    expect((await s.end()).droppedMs).toBe(0);
  });
});

describe('§2 rule 4: no silent loss when a chunk exceeds the replay window', () => {
  it('a 10 MiB write: accepted up to replayWindowMs, false, droppedMs, a warning; the server gets exactly what was kept', async () => {
    const s = recognizer.stream({ audio: L16 }); // 32 bytes/ms, replayWindowMs 30000 → 960000 bytes kept
    await new Promise((r) => s.once('open', r)); // connected: what is kept goes out at once, not paced as a replay
    const warnings: StreamWarning[] = [];
    s.on('warning', (w) => warnings.push(w));
    let drained = false;
    s.on('drain', () => (drained = true));
    const huge = new Uint8Array(10 * 1024 * 1024);
    expect(s.write(huge)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'AUDIO_OVER_WINDOW', droppedMs: (huge.length - 960_000) / 32 });
    expect(warnings[0]!.message).toMatch(/327680 ms of audio.*30000 ms.*297680 ms/);
    expect(s.audioMs).toBe(30_000);
    await expect.poll(() => drained, { timeout: 10_000 }).toBe(true);
    const summary = await s.end();
    expect(summary.audioMs).toBe(30_000);
    expect(summary.droppedMs).toBe((huge.length - 960_000) / 32);
    expect(emulator.counters.audioBytes).toBe(960_000);
  });

  it('audio piling up while no connection can take it: one warning per episode, every dropped ms counted', async () => {
    emulator.setLatency({ connectMs: 60_000 }); // the handshake hangs: nothing can be sent
    const s = recognizer.stream({ audio: MULAW, replayWindowMs: 1000 });
    const warnings: StreamWarning[] = [];
    s.on('warning', (w) => warnings.push(w));
    const results: boolean[] = [];
    for (const f of frames(mulaw8k.data.subarray(0, 8 * 2500), 160)) results.push(s.write(f)); // 2.5 s
    expect(s.audioMs).toBe(1000);
    expect(s.droppedMs).toBe(1500);
    expect(results.slice(50).every((r) => r === false)).toBe(true); // every frame past the window: false
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/could not send yet/);
    s.abort();
    expect((await s.end()).droppedMs).toBe(1500);
  });

  it('the async iterator yields warnings', async () => {
    const s = recognizer.stream({ audio: MULAW, replayWindowMs: 1000 });
    const seen: RecognitionEvent[] = [];
    const loop = (async () => {
      for await (const ev of s) seen.push(ev);
    })();
    s.write(new Uint8Array(8 * 1500));
    await s.end();
    await loop;
    expect(seen.find((e) => e.type === 'warning')).toMatchObject({ type: 'warning', code: 'AUDIO_OVER_WINDOW', droppedMs: 500 });
    expect(seen.at(-1)?.type).toBe('close');
  });
});

describe('§2 rule 5: numeric options are validated at construction', () => {
  const badStream: [string, object][] = [
    ['replayWindowMs NaN', { replayWindowMs: NaN }],
    ['replayWindowMs -1', { replayWindowMs: -1 }],
    ['replayWindowMs 0', { replayWindowMs: 0 }],
    ['replayWindowMs Infinity', { replayWindowMs: Infinity }],
    ['replayWindowMs string', { replayWindowMs: '30000' }],
    ['endTimeoutMs NaN', { endTimeoutMs: NaN }],
    ['endTimeoutMs -1', { endTimeoutMs: -1 }],
    ['highWaterMark NaN', { highWaterMark: NaN }],
    ['highWaterMark -1', { highWaterMark: -1 }],
    ['highWaterMark 0', { highWaterMark: 0 }],
    ['highWaterMark 1.5', { highWaterMark: 1.5 }],
    ['interimResults "yes"', { interimResults: 'yes' }],
    ['signal {}', { signal: {} }],
  ];

  it.each(badStream)('stream %s → ConfigurationError naming the option, before any network call', (_name, o) => {
    const before = emulator.counters.authRequests + emulator.counters.connections;
    let caught: unknown;
    try {
      recognizer.stream({ audio: MULAW, ...o } as never);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigurationError);
    expect((caught as Error).message).toContain(Object.keys(o)[0]!);
    expect(emulator.counters.authRequests + emulator.counters.connections).toBe(before);
    expect(recognizer.openStreams).toBe(0);
  });

  it('recognizer, recognize() and reliability numbers', async () => {
    const p = provider();
    const make = (o: object) => () => new StreamingRecognizer({ providers: [p], ...o });
    expect(make({ fallback: { replayWindowMs: NaN } })).toThrow(ConfigurationError);
    expect(make({ fallback: { replayWindowMs: 10 } })).toThrow(/replayWindowMs/);
    expect(make({ fallback: { attemptTimeoutMs: -1 } })).toThrow(ConfigurationError);
    expect(make({ fallback: { stallTimeoutMs: NaN } })).toThrow(ConfigurationError);
    expect(make({ reconnect: { retries: 1.5 } })).toThrow(/retries/);
    expect(make({ reconnect: { maxDelayMs: NaN } })).toThrow(ConfigurationError);
    await expect(recognizer.recognize(new Uint8Array(160), { audio: MULAW, chunkMs: NaN })).rejects.toThrow(/chunkMs/);
    await p.close();
  });

  it('every provider number: NaN, negative or non-integer where an integer is meant', () => {
    const creds = { clientId: 'id', clientSecret: 'secret' };
    const rtzr: object[] = [
      { chunkMs: NaN },
      { chunkMs: 100.5 },
      { authTimeoutMs: -1 },
      { connectTimeoutMs: NaN },
      { pingIntervalMs: 0 },
      { tokenRefreshMarginMs: NaN },
      { epdTime: NaN },
      { maxUtterDuration: -1 },
      { noiseThreshold: NaN },
      { activeThreshold: 2 },
      { prewarm: NaN },
      { prewarm: 1.5 },
      { prewarm: { count: 1, idleMs: NaN } },
      { keywords: [['상담', NaN]] },
    ];
    for (const o of rtzr) expect(() => new RtzrProvider({ ...creds, ...o }), JSON.stringify(o)).toThrow(ConfigurationError);
    const google: object[] = [
      { requestTimeoutMs: NaN },
      { retries: 1.5 },
      { maxConcurrentRequests: 0 },
      { silenceMs: -1 },
      { preRollMs: NaN },
      { maxUtteranceMs: Infinity },
      { maxAlternatives: -1 },
      { maxPendingUtterances: NaN },
      { tokenRefreshMarginMs: -5 },
    ];
    for (const o of google) expect(() => new GoogleProvider({ apiKey: 'k', ...o }), JSON.stringify(o)).toThrow(ConfigurationError);
    const fw: object[] = [
      { chunkDurationMs: NaN },
      { overlapDurationMs: -1 },
      { chunkMs: 1.5 },
      { maxMessageBytes: NaN },
      { connectTimeoutMs: 0 },
      { endpointing: { silenceMs: NaN } },
      { endpointing: { thresholdDb: NaN } },
    ];
    for (const o of fw) expect(() => new FasterWhisperProvider(o), JSON.stringify(o)).toThrow(ConfigurationError);
    const wl: object[] = [
      { chunkMs: NaN },
      { readyTimeoutMs: -1 },
      { endPaddingMs: 1.5 },
      { noSpeechThreshold: NaN },
      { sendLastNSegments: 0 },
      { vadParameters: { threshold: NaN } },
    ];
    for (const o of wl) expect(() => new WhisperLiveProvider(o), JSON.stringify(o)).toThrow(ConfigurationError);
  });
});

describe('§2 rule 6: the logger', () => {
  it('must have debug, info, warn and error functions', () => {
    const p = provider();
    for (const logger of [{}, { debug() {}, info() {}, warn() {} }, 'console', null, 42]) {
      expect(() => new StreamingRecognizer({ providers: [p], logger: logger as never })).toThrow(ConfigurationError);
    }
    expect(() => new StreamingRecognizer({ providers: [p], logger: {} as never })).toThrow(/missing: debug, info, warn, error/);
    expect(() => new StreamingRecognizer({ providers: [p], logger: { debug() {}, info() {}, warn() {} } as never })).toThrow(
      /missing: error/,
    );
    void p.close();
  });

  it('a logger that throws, or returns a rejected promise, never breaks a stream', async () => {
    let calls = 0;
    const throwing: Logger = {
      debug: () => {
        calls++;
        throw new Error('log sink down');
      },
      info: () => {
        calls++;
        throw new Error('log sink down');
      },
      warn: async () => {
        calls++;
        throw new Error('async log sink down'); // an unhandled rejection would fail this test file
      },
      error: () => {
        throw new Error('log sink down');
      },
    };
    const r = new StreamingRecognizer({ providers: [provider()], logger: throwing });
    try {
      const s = r.stream({ audio: MULAW });
      await playCall(s, 8);
      const summary = await s.end();
      expect(summary.error).toBeUndefined();
      expect(summary.transcripts.map((t) => t.text)).toEqual(script);
      s.write(frame()); // logs 'write() after the stream ended' through the throwing info()
      const big = r.stream({ audio: MULAW, replayWindowMs: 1000 });
      big.write(new Uint8Array(8 * 2000)); // warns through the rejecting warn()
      big.abort();
      expect(calls).toBeGreaterThan(0);
    } finally {
      await r.close();
    }
  });

  it('a logger keeps its this (pino, winston and console methods need it)', async () => {
    const seen: string[] = [];
    class ClassLogger {
      private readonly prefix = 'app';
      debug(m: string): void {
        seen.push(`${this.prefix}:${m}`);
      }
      info(m: string): void {
        seen.push(`${this.prefix}:${m}`);
      }
      warn(m: string): void {
        seen.push(`${this.prefix}:${m}`);
      }
      error(m: string): void {
        seen.push(`${this.prefix}:${m}`);
      }
    }
    const r = new StreamingRecognizer({ providers: [provider()], logger: new ClassLogger() });
    const s = r.stream({ audio: MULAW });
    await s.end();
    s.write(frame());
    await r.close();
    expect(seen.some((m) => m.startsWith('app:stream: write() after the stream ended'))).toBe(true);
  });
});

describe('pipeFrom(), await using', () => {
  it('pipeFrom() takes a plain sync iterable (an array, a generator)', async () => {
    const list = [...frames(mulaw8k.data, 160)];
    const a = await recognizer.stream({ audio: MULAW }).pipeFrom(list);
    expect(a.transcripts.map((t) => t.text)).toEqual(script);
    const b = await recognizer.stream({ audio: MULAW }).pipeFrom(frames(mulaw8k.data, 1600));
    expect(b.transcripts.map((t) => t.text)).toEqual(script);
  });

  it('pipeFrom() of something that is not a source of chunks rejects with INVALID_AUDIO and aborts the stream', async () => {
    const s = recognizer.stream({ audio: MULAW });
    await expect(s.pipeFrom(mulaw8k.data as never)).rejects.toThrow(AudioFormatError);
    expect(s.state).toBe('closed');
    const t = recognizer.stream({ audio: MULAW });
    await expect(t.pipeFrom([frame(), 'oops', frame()] as never)).rejects.toMatchObject({ code: 'INVALID_AUDIO' });
    expect((await t.end()).error).toMatchObject({ code: 'ABORTED' });
  });

  it('a source that throws aborts the stream and rejects with its error', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield frame();
      throw new Error('disk gone');
    }
    const s = recognizer.stream({ audio: MULAW });
    await expect(s.pipeFrom(broken())).rejects.toThrow('disk gone');
    expect((await s.end()).error?.message).toBe('disk gone');
  });

  it('await using: the stream is aborted and the recognizer closed at the end of the scope', async () => {
    const p = provider();
    let streamRef: ReturnType<StreamingRecognizer['stream']> | undefined;
    let summary: StreamSummary | undefined;
    {
      await using r = new StreamingRecognizer({ providers: [p] });
      {
        await using s = r.stream({ audio: MULAW });
        streamRef = s;
        s.on('close', (x) => (summary = x));
        s.write(frame());
      }
      expect(streamRef.state).toBe('closed');
      expect(summary?.error).toMatchObject({ code: 'ABORTED' });
      {
        await using ended = r.stream({ audio: MULAW });
        await writeCall(ended);
        const done = await ended.end(); // ended before the scope closes: disposal leaves it as it is
        expect(done.transcripts).toHaveLength(script.length);
      }
    }
    expect(() => streamRef!.write(frame())).not.toThrow();
    await expect(p.connect({} as never)).rejects.toMatchObject({ code: 'ABORTED' }); // the recognizer closed its providers
  });
});
