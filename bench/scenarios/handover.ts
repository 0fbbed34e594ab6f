/**
 * Scenario 7 worker: end of speech → final on the fallback path and across a
 * handover. One variant per process; it plays the sample call in real time
 * (Twilio-paced) and reports, per utterance, the ground-truth end of speech →
 * final arrival in wall time, which provider produced the final, and whether
 * it is the first final after a handover.
 *
 * The emulators run in this process (not in the bench's emulator host): the
 * switch-back variant kills the RTZR emulator mid-call and starts it again on
 * the same port, and RTZR and Google must share one script cursor. Every
 * emulator recognises `processingMs` after its end point (the seeds' 400 ms).
 *
 * Variants:
 * - `rtzr`: RTZR alone, no fault (the baseline of the RTZR rows);
 * - `fallback-rest` / `fallback-streaming`: RTZR refuses every token request,
 *   so the call runs on the fallback, Google in REST utterance mode / gRPC
 *   streaming mode (the first call falls back at its start; the next ones start
 *   on Google, RTZR being out of rotation);
 * - `streaming`: Google streaming alone (the baseline of the rotation rows);
 * - `rotation`: the same with `maxStreamMs` 4000 / `rotateAfterMs` 2000: the
 *   stream hands over to a new gRPC stream between utterances;
 * - `switchback`: RTZR then Google streaming; RTZR dies in utterance 1, comes
 *   back 300 ms after the fallback, and the call hands back to it.
 */
import { GoogleProvider, RtzrProvider, StreamingRecognizer, type Provider, type RecognitionStream } from '../../src/index.js';
import {
  ScriptCursor,
  startGoogleEmulator,
  startGoogleStreamingEmulator,
  startRtzrEmulator,
  type RtzrEmulator,
} from '../../src/testing/index.js';
import { serve } from '../lib/ipc.js';
import { play, writtenAtMs } from '../lib/pacer.js';
import { mulaw8k, script, SEEDS_LATENCY, truth } from '../lib/sample-call.js';

export type HandoverVariant = 'rtzr' | 'fallback-rest' | 'fallback-streaming' | 'streaming' | 'rotation' | 'switchback';

export interface HandoverInput {
  variant: HandoverVariant;
  calls: number;
  gapMs: number;
}

export interface HandoverRow {
  call: number;
  utterance: number;
  textOk: boolean;
  provider: string;
  /** Ground-truth end of speech → final, ms. */
  eosToFinalMs: number;
  /** The first final after a handover (the new connection's first). */
  afterHandover: boolean;
  /** Ground-truth start of speech → first partial, ms (none in REST utterance mode). */
  firstPartialMs?: number;
}

export interface HandoverOutput {
  variant: HandoverVariant;
  rows: HandoverRow[];
  /** Per call: `handover` events (`reason`, `forced`, `replayedMs`) and fallbacks. */
  events: string[][];
  errors: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const KILL_AT_MS = 4400; // inside utterance 1 (3989–4816 ms)

async function run(input: HandoverInput): Promise<HandoverOutput> {
  const { variant } = input;
  const cursor = new ScriptCursor(script);
  const processingMs = SEEDS_LATENCY.processingMs;
  const closers: (() => Promise<void>)[] = [];
  const providers: Provider[] = [];
  let rtzr: RtzrEmulator | undefined;
  let rtzrPort = 0;
  const usesRtzr = variant === 'rtzr' || variant === 'switchback' || variant.startsWith('fallback');
  if (usesRtzr) {
    rtzr = await startRtzrEmulator({ script: cursor, latency: SEEDS_LATENCY });
    rtzrPort = Number(new URL(rtzr.apiBase).port);
    if (variant.startsWith('fallback')) rtzr.faults.failAuth(500, 1_000_000); // RTZR down for the whole run
    providers.push(new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials }));
  }
  if (variant === 'fallback-rest') {
    const g = await startGoogleEmulator({ script: cursor, latency: { processingMs } });
    closers.push(() => g.close());
    providers.push(new GoogleProvider({ endpoint: g.endpoint, apiKey: g.apiKey, maxConcurrentRequests: 1 }));
  } else if (variant !== 'rtzr') {
    const g = await startGoogleStreamingEmulator({ script: cursor, latency: { processingMs } });
    closers.push(() => g.close());
    const limits = variant === 'rotation' ? { maxStreamMs: 4000, rotateAfterMs: 2000 } : {};
    providers.push(new GoogleProvider({ mode: 'streaming', endpoint: g.endpoint, version: 'v2', projectId: 'bench', ...limits }));
  }
  const recognizer = new StreamingRecognizer({
    providers,
    reconnect: { retries: 2, minDelayMs: 20, maxDelayMs: 100 },
    fallback: { recoveryCooldownMs: 300 },
  });
  const rows: HandoverRow[] = [];
  const events: string[][] = [];
  const errors: string[] = [];
  try {
    for (let call = 1; call <= input.calls; call++) {
      cursor.reset();
      const stream: RecognitionStream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      const log: string[] = [];
      events.push(log);
      const arrived = new Map<number, { text: string; at: number; provider: string; afterHandover: boolean }>();
      let handedOver = false;
      stream.on('handover', (e) => {
        handedOver = true;
        log.push(`handover ${e.from}→${e.to} ${e.reason}${e.forced ? ' forced' : ''} replayed ${e.replayedMs} ms`);
      });
      stream.on('fallback', (e) => {
        log.push(`fallback ${e.from}→${e.to} ${e.reason.code}`);
        if (variant === 'switchback' && rtzr === undefined) {
          setTimeout(() => {
            void startRtzrEmulator({ script: cursor, latency: SEEDS_LATENCY, port: rtzrPort }).then((e) => (rtzr = e));
          }, 300);
        }
      });
      const firstPartial = new Map<number, number>();
      stream.on('partial', (t) => {
        if (!firstPartial.has(t.utteranceId)) firstPartial.set(t.utteranceId, performance.now());
      });
      stream.on('final', (t) => {
        arrived.set(t.utteranceId, { text: t.text, at: performance.now(), provider: t.provider, afterHandover: handedOver });
        handedOver = false;
      });
      stream.on('error', (e) => errors.push(`call ${call}: ${e.code} ${e.message}`));
      const kill = variant === 'switchback' && call === 1;
      let killed = false;
      const playback = play(mulaw8k, (frame) => {
        if (stream.state !== 'open' && stream.state !== 'connecting') return playback.stop();
        stream.write(frame);
        if (kill && !killed && stream.audioMs >= KILL_AT_MS) {
          killed = true;
          const dead = rtzr!;
          rtzr = undefined;
          void dead.close();
        }
      });
      await playback.done;
      const summary = await stream.end();
      if (summary.error) errors.push(`call ${call}: ${summary.error.code}`);
      truth.utterances.forEach((t, i) => {
        const f = arrived.get(i);
        if (!f) {
          errors.push(`call ${call}: no final for utterance ${i}`);
          return;
        }
        rows.push({
          call,
          utterance: i,
          textOk: f.text === t.text,
          provider: f.provider,
          eosToFinalMs: f.at - writtenAtMs(playback, t.endMs),
          afterHandover: f.afterHandover,
          ...(firstPartial.has(i) ? { firstPartialMs: firstPartial.get(i)! - writtenAtMs(playback, t.startMs) } : {}),
        });
      });
      if (call < input.calls) await sleep(input.gapMs);
    }
  } finally {
    await recognizer.close();
    await rtzr?.close();
    for (const c of closers) await c();
  }
  return { variant, rows, events, errors };
}

serve(async (msg) => run(msg.input as HandoverInput));
