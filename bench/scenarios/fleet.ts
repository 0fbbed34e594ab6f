/**
 * Scenario 5 worker: one server of a fleet. At `startAt` (epoch ms, the same for every worker) it
 * starts `calls` concurrent calls (the sample call, Twilio-paced at `speed`× real time), each with
 * its own language tag so the Google emulator serves each call its own script, through RTZR
 * (`maxConcurrent`) with Google as fallback, with or without a RedisCoordinator. Reports per call:
 * call start → `open`, → first partial, → first final, the provider of each final, whether every
 * final is right.
 */
import { Redis } from 'ioredis';
import { GoogleProvider, RedisCoordinator, RtzrProvider, StreamingRecognizer } from '../../src/index.js';
import { serve } from '../lib/ipc.js';
import { play } from '../lib/pacer.js';
import { mulaw8k, script } from '../lib/sample-call.js';

export interface FleetInput {
  worker: number;
  calls: number;
  speed: number;
  startAt: number;
  maxConcurrent: number;
  apiBase: string;
  credentials: { clientId: string; clientSecret: string };
  google: { endpoint: string; apiKey: string };
  /** With a coordinator when set. */
  redisPort?: number;
  namespace: string;
}

export interface FleetCall {
  openMs: number;
  openedOn: string;
  firstPartialMs: number | null;
  firstFinalMs: number | null;
  finalsByProvider: Record<string, number>;
  textsOk: boolean;
  error?: string;
}

export interface FleetOutput {
  worker: number;
  calls: FleetCall[];
  rtzrStats: RtzrProvider['stats'];
  /** `coordinator` events (false: the process went on alone for a while). */
  coordinatorEvents: boolean[];
}

async function run(input: FleetInput): Promise<FleetOutput> {
  let redis: Redis | undefined;
  if (input.redisPort !== undefined) {
    redis = new Redis({ host: '127.0.0.1', port: input.redisPort, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
  }
  const rtzr = new RtzrProvider({ apiBase: input.apiBase, ...input.credentials, maxConcurrent: input.maxConcurrent });
  const recognizer = new StreamingRecognizer({
    providers: [rtzr, new GoogleProvider({ ...input.google })],
    ...(redis ? { coordinator: new RedisCoordinator({ redis, namespace: input.namespace }) } : {}),
  });
  const coordinatorEvents: boolean[] = [];
  recognizer.on('coordinator', (e) => coordinatorEvents.push(e.available));
  try {
    await new Promise((r) => setTimeout(r, Math.max(0, input.startAt - Date.now())));
    const call = async (i: number): Promise<FleetCall> => {
      const t0 = performance.now();
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, language: `ko-KR-x-w${input.worker}c${i}` });
      let openMs = Number.NaN;
      let openedOn = '';
      let firstPartialMs: number | null = null;
      let firstFinalMs: number | null = null;
      const finalsByProvider: Record<string, number> = {};
      stream.once('open', (e) => {
        openMs = performance.now() - t0;
        openedOn = e.provider;
      });
      stream.on('partial', () => (firstPartialMs ??= performance.now() - t0));
      stream.on('final', (t) => {
        firstFinalMs ??= performance.now() - t0;
        finalsByProvider[t.provider] = (finalsByProvider[t.provider] ?? 0) + 1;
      });
      const playback = play(
        mulaw8k,
        (f) => {
          if (stream.state === 'open' || stream.state === 'connecting') stream.write(f);
          else playback.stop();
        },
        input.speed,
      );
      await playback.done;
      const summary = await stream.end();
      const texts = summary.transcripts.map((t) => t.text);
      return {
        openMs,
        openedOn,
        firstPartialMs,
        firstFinalMs,
        finalsByProvider,
        textsOk: texts.length === script.length && texts.every((t, k) => t === script[k]),
        ...(summary.error ? { error: summary.error.code } : {}),
      };
    };
    const calls = await Promise.all(Array.from({ length: input.calls }, (_, i) => call(i)));
    return { worker: input.worker, calls, rtzrStats: { ...rtzr.stats }, coordinatorEvents };
  } finally {
    await recognizer.close();
    redis?.disconnect();
  }
}

serve(async (msg) => run(msg.input as FleetInput));
