/**
 * Scenario 1 worker: one client variant plays the sample call (twice, in real
 * time, Twilio-paced) against its own emulator and reports, per utterance,
 * end of speech (the ground-truth `endMs`) → final, in wall time.
 *
 * Variants: `baseline` (the seeds' client), `defaults` (streaming-stt, no
 * options), `prewarm` (`prewarm: 1` and `recognizer.warmup()` at start-up),
 * `prewarm-vad` (`prewarm: 1` plus `finalize()` after 0.1 s of silence from the
 * caller's own endpointer: the baseline's endpointing, streamed).
 */
import { decodeMulaw, Endpointer, RtzrProvider, StreamingRecognizer, type UtteranceMetrics } from '../../src/index.js';
import { SeedsStyleCall } from '../baseline-client.js';
import { serve } from '../lib/ipc.js';
import { play, writtenAtMs, type Playback } from '../lib/pacer.js';
import { mulaw8k, truth } from '../lib/sample-call.js';

export type LatencyVariant = 'baseline' | 'defaults' | 'prewarm' | 'prewarm-vad';

export interface LatencyInput {
  variant: LatencyVariant;
  calls: number;
  gapMs: number;
  apiBase: string;
  websocketUrl: string;
  credentials: { clientId: string; clientSecret: string };
}

export interface UtteranceRow {
  call: number;
  utterance: number;
  text: string;
  textOk: boolean;
  /** Ground-truth end of speech → final, ms. */
  eosToFinalMs: number;
  metrics?: UtteranceMetrics;
}

export interface LatencyOutput {
  variant: LatencyVariant;
  rows: UtteranceRow[];
  errors: string[];
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function runBaseline(input: LatencyInput): Promise<LatencyOutput> {
  const rows: UtteranceRow[] = [];
  const errors: string[] = [];
  for (let call = 1; call <= input.calls; call++) {
    const ref: { playback?: Playback } = {};
    const c = new SeedsStyleCall(
      { apiBase: input.apiBase, websocketUrl: input.websocketUrl, ...input.credentials },
      (f) => {
        const t = truth.utterances[f.index];
        if (!t) return;
        rows.push({
          call,
          utterance: f.index,
          text: f.text,
          textOk: f.text === t.text,
          eosToFinalMs: f.at - writtenAtMs(ref.playback!, t.endMs),
        });
      },
    );
    ref.playback = play(mulaw8k, (frame) => c.write(frame));
    await ref.playback.done;
    await c.end();
    if (c.stats.errors > 0) errors.push(`call ${call}: ${c.stats.errors} utterances failed`);
    if (call < input.calls) await sleep(input.gapMs);
  }
  return { variant: input.variant, rows, errors };
}

async function runLibrary(input: LatencyInput): Promise<LatencyOutput> {
  const prewarm = input.variant === 'prewarm' || input.variant === 'prewarm-vad';
  const recognizer = new StreamingRecognizer({
    providers: [
      new RtzrProvider({
        apiBase: input.apiBase,
        websocketUrl: input.websocketUrl,
        ...input.credentials,
        ...(prewarm ? { prewarm: 1 } : {}),
      }),
    ],
  });
  const rows: UtteranceRow[] = [];
  const errors: string[] = [];
  try {
    if (prewarm) await recognizer.warmup();
    for (let call = 1; call <= input.calls; call++) {
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      const arrived = new Map<number, { text: string; at: number }>();
      const metrics = new Map<number, UtteranceMetrics>();
      stream.on('final', (t) => arrived.set(t.utteranceId, { text: t.text, at: performance.now() }));
      stream.on('metrics', (m) => metrics.set(m.utteranceId, m));
      stream.on('error', (e) => errors.push(`call ${call}: ${e.code} ${e.message}`));
      const vad = input.variant === 'prewarm-vad' ? new Endpointer({ sampleRate: 8000, silenceMs: 100 }) : undefined;
      const playback = play(mulaw8k, (frame) => {
        if (stream.state !== 'open' && stream.state !== 'connecting') return playback.stop();
        stream.write(frame);
        if (vad) for (const ev of vad.push(decodeMulaw(frame))) if (ev.type === 'voiceend') stream.finalize();
      });
      await playback.done;
      await stream.end();
      truth.utterances.forEach((t, i) => {
        const f = arrived.get(i);
        if (!f) {
          errors.push(`call ${call}: no final for utterance ${i}`);
          return;
        }
        rows.push({
          call,
          utterance: i,
          text: f.text,
          textOk: f.text === t.text,
          eosToFinalMs: f.at - writtenAtMs(playback, t.endMs),
          ...(metrics.has(i) ? { metrics: metrics.get(i)! } : {}),
        });
      });
      if (call < input.calls) await sleep(input.gapMs);
    }
  } finally {
    await recognizer.close();
  }
  return { variant: input.variant, rows, errors };
}

serve(async (msg) => {
  const input = msg.input as LatencyInput;
  return input.variant === 'baseline' ? runBaseline(input) : runLibrary(input);
});
