/**
 * The Google streaming emulator speaks what Google's own Node client speaks: `@google-cloud/speech`
 * (v1 `SpeechClient.streamingRecognize()` and the v2 `SpeechClient`'s raw bidi call), pointed at it
 * over a plaintext channel, streams the sample call through it and gets the right finals; and it
 * applies Google's stream rules and the injected faults.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import speech from '@google-cloud/speech';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ScriptCursor, startGoogleStreamingEmulator, type GoogleStreamingEmulator } from '../src/testing/index.js';
import { mulaw8k, script, truth } from './helpers/sample-call.js';

type Client = InstanceType<typeof speech.v1.SpeechClient> | InstanceType<typeof speech.v2.SpeechClient>;
type Duration = { seconds?: string | number | null; nanos?: number | null } | null | undefined;
const ms = (d: Duration): number => Number(d?.seconds ?? 0) * 1000 + Math.round((d?.nanos ?? 0) / 1e6);

let emulator: GoogleStreamingEmulator | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await emulator?.close();
  emulator = undefined;
});

/** A Google client on a plaintext channel to the emulator, as its docs describe for emulators. */
function googleClient(version: 'v1' | 'v2'): Client {
  const e = emulator!;
  // `universeDomain` given, so google-auth-library does not probe for a GCE metadata server.
  const options = {
    servicePath: e.host,
    port: e.port,
    sslCreds: grpc.credentials.createInsecure(),
    grpc,
    universeDomain: 'googleapis.com',
  } as ConstructorParameters<typeof speech.v1.SpeechClient>[0];
  const client = version === 'v1' ? new speech.v1.SpeechClient(options) : new speech.v2.SpeechClient(options);
  clients.push(client);
  return client;
}

/** Write 100 ms mu-law frames through `write`, at most `aheadMs` ahead of real time (Google's "approximately real time"). */
async function playPaced(write: (chunk: Buffer) => void, data: Uint8Array, aheadMs = 2000): Promise<void> {
  const started = performance.now();
  for (let off = 0; off < data.length; off += 800) {
    const wait = off / 8 - aheadMs - (performance.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    write(Buffer.from(data.subarray(off, Math.min(off + 800, data.length))));
  }
}

interface Collected {
  responses: Record<string, unknown>[];
  error?: { code: number; details: string };
}

function collect(stream: NodeJS.EventEmitter): Promise<Collected> {
  const out: Collected = { responses: [] };
  return new Promise((resolve) => {
    stream.on('data', (r: Record<string, unknown>) => out.responses.push(r));
    stream.on('error', (e: { code: number; details: string }) => {
      out.error ??= { code: e.code, details: e.details };
      resolve(out);
    });
    stream.on('end', () => resolve(out));
  });
}

type Result = { isFinal?: boolean; stability?: number; alternatives?: { transcript?: string; words?: Record<string, Duration | string>[] }[] };
const resultsOf = (c: Collected): Result[] => c.responses.flatMap((r) => (r.results as Result[] | undefined) ?? []);

function expectSampleCall(c: Collected, startKey: 'startTime' | 'startOffset', endKey: 'endTime' | 'endOffset'): void {
  expect(c.error).toBeUndefined();
  const finals = resultsOf(c).filter((r) => r.isFinal);
  expect(finals.map((r) => r.alternatives?.[0]?.transcript)).toEqual(script);
  finals.forEach((r, i) => {
    const words = r.alternatives![0]!.words!;
    expect(words.map((w) => w.word).join(' ')).toBe(script[i]);
    expect(Math.abs(ms(words[0]![startKey] as Duration) - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(ms(words.at(-1)![endKey] as Duration) - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
  });
  const interim = resultsOf(c).filter((r) => !r.isFinal);
  expect(interim.length).toBeGreaterThan(0);
  expect(interim.every((r) => typeof r.stability === 'number' && r.stability > 0)).toBe(true);
}

describe("startGoogleStreamingEmulator: Google's own client", () => {
  it('v1 SpeechClient.streamingRecognize() streams the sample call and gets every final with word times', async () => {
    emulator = await startGoogleStreamingEmulator({ script });
    const client = googleClient('v1') as InstanceType<typeof speech.v1.SpeechClient>;
    const stream = client.streamingRecognize({
      config: { encoding: 'MULAW', sampleRateHertz: 8000, languageCode: 'ko-KR', enableWordTimeOffsets: true },
      interimResults: true,
    });
    const done = collect(stream);
    await playPaced((c) => stream.write(c), mulaw8k.data);
    stream.end();
    expectSampleCall(await done, 'startTime', 'endTime');
    expect(emulator.requests[0]).toMatchObject({ version: 'v1', streamingConfig: { config: { encoding: 'MULAW', languageCode: 'ko-KR' } } });
    expect(emulator.streamsLog).toEqual([expect.objectContaining({ version: 'v1', status: 'OK', audioMs: truth.durationMs })]);
    expect(emulator.counters).toMatchObject({ streams: 1, openStreams: 0, finals: 4, audioBytes: mulaw8k.data.length });
  });

  it('v2 SpeechClient (recognizer, explicit decoding, raw bidi call) streams the sample call and gets every final', async () => {
    emulator = await startGoogleStreamingEmulator({ script });
    const client = googleClient('v2') as InstanceType<typeof speech.v2.SpeechClient>;
    const stream = client._streamingRecognize();
    const done = collect(stream);
    stream.write({
      recognizer: 'projects/demo/locations/global/recognizers/_',
      streamingConfig: {
        config: {
          explicitDecodingConfig: { encoding: 'MULAW', sampleRateHertz: 8000, audioChannelCount: 1 },
          languageCodes: ['ko-KR'],
          model: 'long',
          features: { enableWordTimeOffsets: true },
        },
        streamingFeatures: { interimResults: true },
      },
    });
    await playPaced((c) => stream.write({ audio: c }), mulaw8k.data);
    stream.end();
    expectSampleCall(await done, 'startOffset', 'endOffset');
    expect(emulator.requests[0]).toMatchObject({ version: 'v2', recognizer: 'projects/demo/locations/global/recognizers/_' });
  });
});

describe("startGoogleStreamingEmulator: Google's rules", () => {
  /** Open a v1 stream with a valid config; returns the stream and its collected outcome. */
  function v1Stream(): { stream: ReturnType<InstanceType<typeof speech.v1.SpeechClient>['_streamingRecognize']>; done: Promise<Collected> } {
    const client = googleClient('v1') as InstanceType<typeof speech.v1.SpeechClient>;
    const stream = client._streamingRecognize();
    const done = collect(stream);
    stream.write({ streamingConfig: { config: { encoding: 'MULAW', sampleRateHertz: 8000, languageCode: 'ko-KR' }, interimResults: false } });
    return { stream, done };
  }

  it('audio sent far faster than real time ends the stream with OUT_OF_RANGE "too fast"', async () => {
    emulator = await startGoogleStreamingEmulator({ script, maxAheadMs: 2000 });
    const { stream, done } = v1Stream();
    for (let off = 0; off < mulaw8k.data.length; off += 1600) stream.write({ audioContent: Buffer.from(mulaw8k.data.subarray(off, off + 1600)) });
    stream.end();
    expect((await done).error).toMatchObject({ code: grpc.status.OUT_OF_RANGE, details: expect.stringMatching(/streamed too fast/) });
    expect(emulator.streamsLog[0]!.maxAheadMs).toBeGreaterThan(2000);
  });

  it('a stream older than streamLimitMs ends with OUT_OF_RANGE "Exceeded maximum allowed stream duration"', async () => {
    emulator = await startGoogleStreamingEmulator({ script, streamLimitMs: 1000 });
    const { stream, done } = v1Stream();
    void playPaced((c) => stream.write({ audioContent: c }), mulaw8k.data.subarray(0, 16_000), 0);
    expect((await done).error).toMatchObject({
      code: grpc.status.OUT_OF_RANGE,
      details: 'Exceeded maximum allowed stream duration of 1 seconds.',
    });
  });

  it('a stream without audio for audioTimeoutMs ends with OUT_OF_RANGE "Audio Timeout"', async () => {
    emulator = await startGoogleStreamingEmulator({ script, audioTimeoutMs: 300 });
    const { done } = v1Stream();
    expect((await done).error).toMatchObject({ code: grpc.status.OUT_OF_RANGE, details: expect.stringMatching(/^Audio Timeout Error/) });
  });

  it('rejects more than 25 KB of audio in one request, audio before the config, and a v2 request without a recognizer', async () => {
    emulator = await startGoogleStreamingEmulator({ script });
    const big = v1Stream();
    big.stream.write({ audioContent: Buffer.alloc(25_601) });
    expect((await big.done).error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/25600 bytes/) });

    const client = googleClient('v1') as InstanceType<typeof speech.v1.SpeechClient>;
    const early = client._streamingRecognize();
    const earlyDone = collect(early);
    early.write({ audioContent: Buffer.alloc(800) });
    expect((await earlyDone).error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/Malordered/) });

    const v2 = (googleClient('v2') as InstanceType<typeof speech.v2.SpeechClient>)._streamingRecognize();
    const v2Done = collect(v2);
    v2.write({ streamingConfig: { config: { explicitDecodingConfig: { encoding: 'LINEAR16', sampleRateHertz: 16000 }, languageCodes: ['ko-KR'] } } });
    expect((await v2Done).error).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(/recognizer/) });
    expect(emulator.counters.errors).toBe(3);
  });

  it('faults: UNAUTHENTICATED and RESOURCE_EXHAUSTED at the start, UNAVAILABLE mid-stream', async () => {
    emulator = await startGoogleStreamingEmulator({ script });
    emulator.faults.failStreams('UNAUTHENTICATED');
    emulator.faults.failStreams('RESOURCE_EXHAUSTED');
    expect((await v1Stream().done).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await v1Stream().done).error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);

    emulator.faults.failAfterAudioMs(1000);
    const { stream, done } = v1Stream();
    void playPaced((c) => stream.write({ audioContent: c }), mulaw8k.data.subarray(0, 16_000), 3000);
    expect((await done).error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(emulator.streamsLog.at(-1)).toMatchObject({ status: 'UNAVAILABLE', audioMs: expect.any(Number) });
    expect(emulator.streamsLog.at(-1)!.audioMs).toBeGreaterThanOrEqual(1000);
    expect(emulator.counters.openStreams).toBe(0);
  });

  it('continues the script across streams, and a stream that failed before its final does not use up the line', async () => {
    const cursor = new ScriptCursor(script);
    emulator = await startGoogleStreamingEmulator({ script: cursor });
    emulator.faults.failAfterAudioMs(2000); // inside utterance 0 (0.8–2.6 s): its line stays unused
    const first = v1Stream();
    void playPaced((c) => first.stream.write({ audioContent: c }), mulaw8k.data.subarray(0, 24_000), 3000);
    expect((await first.done).error?.code).toBe(grpc.status.UNAVAILABLE);
    expect(cursor.committed).toBe(0);
    for (const [from, to] of [
      [0, 24_000],
      [24_000, mulaw8k.data.length],
    ] as const) {
      const next = v1Stream();
      await playPaced((c) => next.stream.write({ audioContent: c }), mulaw8k.data.subarray(from, to), 3000);
      next.stream.end();
      expect((await next.done).error).toBeUndefined();
    }
    expect(cursor.committed).toBe(4);
    expect(emulator.counters.finals).toBe(4);
  });
});

describe('streaming-stt/testing without the optional gRPC packages', () => {
  it('imports, and startGoogleStreamingEmulator() explains what to install', () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    // A resolve hook makes the optional packages unresolvable, as in an install without them.
    const hook = `data:text/javascript,${encodeURIComponent(
      `export async function resolve(s, c, next) { if (/^@grpc\\/|^@google-cloud\\/speech/.test(s)) { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; } return next(s, c); }`,
    )}`;
    const script = `
      import { register } from 'node:module';
      register(${JSON.stringify(hook)});
      const testing = await import('./src/testing/index.ts');
      const main = await import('./src/index.ts');
      const err = await testing.startGoogleStreamingEmulator().catch((e) => e);
      console.log(JSON.stringify({ main: typeof main.GoogleProvider, code: err.code, message: err.message }));
    `;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { main: string; code: string; message: string };
    expect(out).toMatchObject({ main: 'function', code: 'INVALID_CONFIG' });
    expect(out.message).toMatch(/npm install --save-dev @google-cloud\/speech @grpc\/grpc-js @grpc\/proto-loader/);
  });
});

