/**
 * The provider contract suite: what the stream relies on from every
 * `Provider` and `ProviderSession`, checked against a real server (an
 * emulator on loopback). Every built-in provider passes it, and a provider of
 * your own (a Deepgram provider, say) can run it too:
 *
 * ```ts
 * import { describe, it } from 'vitest';
 * import { describeProviderContract } from 'streaming-stt/testing';
 *
 * describeProviderContract({ describe, it }, 'deepgram', async () => {
 *   const server = await startMyDeepgramEmulator();
 *   return {
 *     provider: new DeepgramProvider({ url: server.url }),
 *     stall: () => server.stopAnswering(),   // no results, no close after end of audio
 *     drop: () => server.dropAll(),          // every connection gone, no close frame
 *     openConnections: () => server.openConnections,
 *     close: () => server.close(),
 *   };
 * });
 * ```
 *
 * The test functions are parameters, so the package has no test framework as
 * a dependency (vitest, jest and node:test all fit); assertions use
 * `node:assert`. Each check gets a fresh server and provider, and closes both.
 * The checks:
 *
 * - speech sent, `end()`: finals arrive, `end()` resolves `'closed'`, no `onError`;
 * - no result for a segment after its final, times in order (`startMs <= endMs`);
 * - a server that stops answering: `end()` resolves `'timeout'` (never
 *   rejects), and nothing is delivered after it;
 * - a dropped connection: `onError` exactly once, nothing after it, `end()` still
 *   resolves;
 * - `abort()` is idempotent, delivers nothing more, closes the connection;
 * - `send()` after the session closed (or ended) calls `onSent`, does not throw,
 *   and sends nothing;
 * - `finalize()` with nothing pending is harmless;
 * - `close()` of the provider leaves no connection open.
 * @module
 */
import { deepStrictEqual, ok, strictEqual } from 'node:assert/strict';
import { encodeAlaw, encodeMulaw } from '../../audio/g711.js';
import { int16AsBytes, pcm16ToFloat32 } from '../../audio/pcm.js';
import type { AudioEncoding } from '../../audio/format.js';
import type { SttError } from '../../errors/index.js';
import type { ConnectRequest, EndOutcome, Provider, ProviderResult, ProviderSession } from '../../providers/provider.js';

/** The test functions the suite registers its checks with (vitest's, jest's, node:test's…). */
export interface ContractTestApi {
  /** Registers a group of checks (`describe` of vitest, jest or `node:test`). */
  describe(name: string, fn: () => void): void;
  /** Registers one async check with its timeout, ms (`it`/`test` of vitest, jest or `node:test`). */
  it(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
}

/** A server (emulator) and a provider connected to it, for one check. */
export interface ContractServer {
  /** The provider under test, configured for this server. */
  provider: Provider;
  /** From now on the server answers nothing: no result, no close after the end of audio. */
  stall(): void;
  /** Drop every open connection now, without a close frame (or make every request fail, for an HTTP provider). */
  drop(): void;
  /** Connections (or requests) open now; lets the suite check that nothing is left open. */
  openConnections?(): number;
  /** Audio bytes received so far; lets the suite check that nothing is sent after close. */
  audioBytes?(): number;
  /** Close the server. */
  close(): Promise<void>;
}

/** Options of {@link describeProviderContract}. */
export interface ProviderContractOptions {
  /** BCP-47 language of the sessions. Default `'ko-KR'`. */
  language?: string;
  /**
   * The speech to send, in the session's wire format, as a function of that format. Default: two
   * utterances of a voiced synthetic signal (1.2 s each, 1 s apart, 0.5 s lead-in, 1.5 s tail).
   */
  speech?: (format: Required<ConnectRequest['format']>) => Uint8Array;
  /** `end()` budget when the server is expected to finish, ms. Default `capabilities.endTimeoutMs ?? 5000`. */
  endTimeoutMs?: number;
  /** `end()` budget when the server stalls, ms. Default 600. */
  stalledEndTimeoutMs?: number;
  /** Per-check timeout handed to `it`, ms. Default 30000. */
  testTimeoutMs?: number;
}

/** What one session delivered. */
interface Recorder {
  results: ProviderResult[];
  errors: SttError[];
  request: ConnectRequest;
  controller: AbortController;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Two voiced utterances (a 140 Hz tone with harmonics, -14 dBFS) in 16-bit PCM at `rate` Hz. */
function syntheticCall(rate: number): Int16Array {
  const ms = (n: number): number => Math.round((n * rate) / 1000);
  const parts: [boolean, number][] = [
    [false, 500],
    [true, 1200],
    [false, 1000],
    [true, 1200],
    [false, 1500],
  ];
  const out = new Int16Array(parts.reduce((a, [, d]) => a + ms(d), 0));
  let at = 0;
  let noise = 1;
  for (const [voiced, d] of parts) {
    for (let i = 0; i < ms(d); i++, at++) {
      noise = (noise * 1103515245 + 12345) & 0x7fffffff; // faint deterministic noise everywhere
      const floor = ((noise / 0x7fffffff) * 2 - 1) * 40;
      const t = at / rate;
      const v = voiced ? 0.2 * (Math.sin(2 * Math.PI * 140 * t) + 0.5 * Math.sin(2 * Math.PI * 280 * t) + 0.25 * Math.sin(2 * Math.PI * 420 * t)) : 0;
      out[at] = Math.round(v * 32767 * 0.57 + floor);
    }
  }
  return out;
}

function encode(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  if (encoding === 'mulaw') return encodeMulaw(pcm);
  if (encoding === 'alaw') return encodeAlaw(pcm);
  if (encoding === 'float32') {
    const f = pcm16ToFloat32(pcm);
    return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  }
  return int16AsBytes(pcm);
}

/** The wire format a stream would pick with no preference: the first encoding, the preferred rate. */
function wireFormat(provider: Provider): Required<ConnectRequest['format']> {
  const caps = provider.capabilities;
  return { encoding: caps.encodings[0] ?? 'linear16', sampleRate: caps.preferredSampleRate, channels: 1 };
}

function bytesPerMs(format: Required<ConnectRequest['format']>): number {
  const bytes = format.encoding === 'linear16' ? 2 : format.encoding === 'float32' ? 4 : 1;
  return (bytes * format.sampleRate) / 1000;
}

/** Poll `cond` until it holds (every 10 ms, at most `ms`); throws `message` otherwise. */
async function until(cond: () => boolean, message: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(message);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Register the contract checks for one provider under `describe(name)`.
 * @param setup - starts a fresh server and provider for each check.
 */
export function describeProviderContract(
  api: ContractTestApi,
  name: string,
  setup: () => Promise<ContractServer>,
  options: ProviderContractOptions = {},
): void {
  const timeout = options.testTimeoutMs ?? 30_000;
  const stalledEnd = options.stalledEndTimeoutMs ?? 600;

  /** Run `check` with a fresh server, closing the provider and the server whatever happens. */
  const withServer = (check: (server: ContractServer) => Promise<void>) => async (): Promise<void> => {
    const server = await setup();
    try {
      await check(server);
      if (server.openConnections) {
        await server.provider.close?.();
        await until(() => server.openConnections!() === 0, `${name}: a connection is still open after the check and close()`);
      }
    } finally {
      await server.provider.close?.();
      await server.close();
    }
  };

  const connect = async (server: ContractServer): Promise<{ session: ProviderSession; rec: Recorder; speech: Uint8Array; frameBytes: number }> => {
    const format = wireFormat(server.provider);
    const controller = new AbortController();
    const rec: Recorder = { results: [], errors: [], controller, request: undefined as unknown as ConnectRequest };
    rec.request = {
      format,
      language: options.language ?? 'ko-KR',
      interimResults: true,
      signal: controller.signal,
      logger: quiet,
      onResult: (r) => rec.results.push(r),
      onError: (e) => rec.errors.push(e),
    };
    const session = await server.provider.connect(rec.request);
    const speech = options.speech ? options.speech(format) : encode(syntheticCall(format.sampleRate), format.encoding);
    const per = bytesPerMs(format);
    const frame = Math.round((server.provider.chunkMs ?? 100) * per);
    const align = format.encoding === 'linear16' ? 2 : format.encoding === 'float32' ? 4 : 1;
    return { session, rec, speech, frameBytes: frame - (frame % align) };
  };

  const sendAll = (session: ProviderSession, speech: Uint8Array, frameBytes: number, to = speech.length): void => {
    for (let off = 0; off < to; off += frameBytes) session.send(speech.subarray(off, Math.min(off + frameBytes, to)));
  };

  const endBudget = (p: Provider): number => options.endTimeoutMs ?? p.capabilities.endTimeoutMs ?? 5000;

  api.describe(`provider contract: ${name}`, () => {
    api.it(
      'speech then end(): finals, end() resolves closed, no onError, nothing for a segment after its final',
      withServer(async (server) => {
        const { session, rec, speech, frameBytes } = await connect(server);
        sendAll(session, speech, frameBytes);
        const outcome: EndOutcome = await session.end(endBudget(server.provider));
        strictEqual(outcome, 'closed', `${name}: end() resolved ${outcome}`);
        deepStrictEqual(rec.errors, [], `${name}: onError during a normal session`);
        const finals = rec.results.filter((r) => r.type === 'final');
        ok(finals.length > 0, `${name}: no final for the speech sent`);
        const finalIndex = new Map<number, number>();
        rec.results.forEach((r, i) => {
          ok(r.startMs <= r.endMs, `${name}: a result ends before it starts`);
          const f = finalIndex.get(r.segment);
          ok(f === undefined, `${name}: a ${r.type} of segment ${r.segment} after its final`);
          if (r.type === 'final') finalIndex.set(r.segment, i);
        });
        const after = rec.results.length;
        strictEqual(await session.end(100), 'closed', `${name}: a second end() after the session closed`);
        strictEqual(rec.results.length, after, `${name}: results after end() resolved`);
      }),
      timeout,
    );

    api.it(
      'a server that stops answering: end() resolves timeout within its budget, never rejects, delivers nothing after',
      withServer(async (server) => {
        const { session, rec, speech, frameBytes } = await connect(server);
        server.stall();
        sendAll(session, speech, frameBytes);
        const outcome = await session.end(stalledEnd);
        strictEqual(outcome, 'timeout', `${name}: end() resolved ${outcome} although the server never finished`);
        const after = rec.results.length;
        server.stall(); // idempotent on the server; the session is done whatever comes
        strictEqual(await session.end(100), 'closed', `${name}: end() of a session already closed`);
        strictEqual(rec.results.length, after, `${name}: results after end() resolved`);
        deepStrictEqual(rec.errors, [], `${name}: an end timeout is an outcome, not an onError`);
      }),
      timeout,
    );

    api.it(
      'a dropped connection: onError once, nothing after it, end() still resolves',
      withServer(async (server) => {
        const { session, rec, speech, frameBytes } = await connect(server);
        const half = Math.floor(speech.length / 2);
        sendAll(session, speech, frameBytes, half - (half % frameBytes));
        server.drop();
        await until(() => rec.errors.length > 0, `${name}: no onError after the connection dropped`);
        const results = rec.results.length;
        sendAll(session, speech.subarray(half), frameBytes); // a caller that keeps writing
        session.finalize();
        const outcome = await session.end(stalledEnd);
        ok(outcome === 'closed' || outcome === 'timeout', `${name}: end() resolved ${String(outcome)}`);
        strictEqual(rec.errors.length, 1, `${name}: onError called ${rec.errors.length} times`);
        strictEqual(rec.results.length, results, `${name}: results after onError`);
        ok(rec.errors[0]!.retryable, `${name}: a dropped connection must be retryable (${rec.errors[0]!.code})`);
      }),
      timeout,
    );

    api.it(
      'abort(): idempotent, delivers nothing more, closes the connection, end() then resolves',
      withServer(async (server) => {
        const { session, rec, speech, frameBytes } = await connect(server);
        sendAll(session, speech, frameBytes, Math.floor(speech.length / 3));
        session.abort();
        const after = rec.results.length;
        session.abort();
        strictEqual(await session.end(100), 'closed', `${name}: end() after abort()`);
        strictEqual(rec.results.length, after, `${name}: results after abort()`);
        deepStrictEqual(rec.errors, [], `${name}: onError after abort()`);
        if (server.openConnections) await until(() => server.openConnections!() === 0, `${name}: abort() left the connection open`);
      }),
      timeout,
    );

    api.it(
      'send() after the session closed: onSent runs, nothing throws, nothing is sent',
      withServer(async (server) => {
        const { session, speech, frameBytes } = await connect(server);
        sendAll(session, speech, frameBytes);
        await session.end(endBudget(server.provider));
        if (server.openConnections) await until(() => server.openConnections!() === 0, `${name}: the connection stays open after end()`);
        const before = server.audioBytes?.();
        let sent = 0;
        session.send(speech.subarray(0, frameBytes), () => sent++);
        await until(() => sent > 0, `${name}: onSent never ran for audio sent after close`);
        strictEqual(sent, 1, `${name}: onSent ran ${sent} times`);
        strictEqual(session.bufferedAmount, 0, `${name}: bytes buffered after close`);
        if (before !== undefined) strictEqual(server.audioBytes!(), before, `${name}: audio reached the server after close`);
        session.abort();
        session.send(speech.subarray(0, frameBytes), () => sent++);
        await until(() => sent === 2, `${name}: onSent never ran for audio sent after abort`);
      }),
      timeout,
    );

    api.it(
      'finalize() with nothing pending is harmless: no result, no error, the session still works',
      withServer(async (server) => {
        const { session, rec, speech, frameBytes } = await connect(server);
        session.finalize();
        session.finalize();
        sendAll(session, speech, frameBytes);
        strictEqual(await session.end(endBudget(server.provider)), 'closed');
        deepStrictEqual(rec.errors, []);
        ok(rec.results.some((r) => r.type === 'final'), `${name}: no final after an early finalize()`);
      }),
      timeout,
    );

    api.it(
      'connect() with an aborted signal rejects with ABORTED and leaves nothing open',
      withServer(async (server) => {
        const controller = new AbortController();
        controller.abort();
        let error: unknown;
        try {
          const s = await server.provider.connect({
            format: wireFormat(server.provider),
            language: options.language ?? 'ko-KR',
            interimResults: true,
            signal: controller.signal,
            logger: quiet,
            onResult() {},
            onError() {},
          });
          s.abort();
        } catch (e) {
          error = e;
        }
        strictEqual((error as SttError | undefined)?.code, 'ABORTED', `${name}: connect() with an aborted signal`);
      }),
      timeout,
    );
  });
}
