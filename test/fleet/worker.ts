/**
 * One server of a test fleet, in its own process (forked by test/helpers/fleet.ts with tsx): a
 * StreamingRecognizer with RTZR (budget `maxConcurrent`) and Google, and, when asked, a
 * RedisCoordinator on its own ioredis client. The parent drives it over IPC: warm up, run calls
 * (each with its own language tag, so the Google emulator serves each call its own script), open a
 * call that keeps playing (to be killed mid-call), close.
 */
import { Redis } from 'ioredis';
import {
  GoogleProvider,
  RedisCoordinator,
  RtzrProvider,
  StreamingRecognizer,
  type RecognitionStream,
} from '../../src/index.js';
import { playCall } from '../helpers/sample-call.js';

export interface WorkerConfig {
  rtzr: { apiBase: string; clientId: string; clientSecret: string; maxConcurrent?: number; prewarm?: number; leaseTtlMs?: number };
  google: { endpoint: string; apiKey: string };
  /** Redis port; no coordinator when absent. */
  redisPort?: number;
  namespace?: string;
  /** Default 5000 here: on a machine busy with other test runs a 200 ms verdict could trip on CPU starvation alone. */
  redisTimeoutMs?: number;
}

export interface CallReport {
  tag: string;
  texts: string[];
  providers: string[];
  /** Provider of the first `open`. */
  opened: string;
  fallbackCodes: string[];
  error?: string;
}

type Msg = { id: number; type: string } & Record<string, unknown>;

let recognizer: StreamingRecognizer | undefined;
let redis: Redis | undefined;
const held = new Map<string, { stream: RecognitionStream; done: Promise<CallReport> }>();

const reply = (id: number, body: Record<string, unknown>) => process.send?.({ id, ...body });

function init(cfg: WorkerConfig): void {
  let coordinator: RedisCoordinator | undefined;
  if (cfg.redisPort !== undefined) {
    redis = new Redis({ host: '127.0.0.1', port: cfg.redisPort, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    redis.on('error', () => {});
    coordinator = new RedisCoordinator({ redis, namespace: cfg.namespace, redisTimeoutMs: cfg.redisTimeoutMs ?? 5000 });
  }
  recognizer = new StreamingRecognizer({
    providers: [new RtzrProvider({ ...cfg.rtzr }), new GoogleProvider({ ...cfg.google })],
    ...(coordinator ? { coordinator } : {}),
  });
  recognizer.on('coordinator', (e) => process.send?.({ event: 'coordinator', available: e.available }));
}

/** Start one call; resolves its report when it has ended. */
function startCall(tag: string, speed: number): { stream: RecognitionStream; opened: Promise<string>; done: Promise<CallReport> } {
  const stream = recognizer!.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, language: `ko-KR-x-${tag}` });
  const fallbackCodes: string[] = [];
  stream.on('fallback', (e) => fallbackCodes.push(e.reason.code));
  const opened = new Promise<string>((resolve) => stream.once('open', (e) => resolve(e.provider)));
  const done = (async (): Promise<CallReport> => {
    await playCall(stream, speed);
    const summary = await stream.end();
    return {
      tag,
      texts: summary.transcripts.map((t) => t.text),
      providers: summary.providers,
      opened: await Promise.race([opened, Promise.resolve('none')]),
      fallbackCodes,
      ...(summary.error ? { error: `${summary.error.code}: ${summary.error.message}` } : {}),
    };
  })();
  return { stream, opened, done };
}

process.on('message', (m: Msg) => {
  void (async () => {
    try {
      switch (m.type) {
        case 'init':
          init(m.config as WorkerConfig);
          return reply(m.id, { ok: true });
        case 'warmup':
          await recognizer!.warmup();
          return reply(m.id, { ok: true });
        case 'calls': {
          const count = m.count as number;
          const calls = Array.from({ length: count }, (_, i) => startCall(`${m.tag as string}${i}`, m.speed as number));
          return reply(m.id, { ok: true, calls: await Promise.all(calls.map((c) => c.done)) });
        }
        case 'open': {
          // start a call and answer once it is open; its report is collected by 'finish'
          const c = startCall(m.tag as string, m.speed as number);
          held.set(m.tag as string, c);
          return reply(m.id, { ok: true, provider: await c.opened });
        }
        case 'finish': {
          const c = held.get(m.tag as string)!;
          held.delete(m.tag as string);
          return reply(m.id, { ok: true, call: await c.done });
        }
        case 'close':
          await recognizer?.close();
          redis?.disconnect();
          reply(m.id, { ok: true });
          process.disconnect();
          return;
        default:
          throw new Error(`unknown message ${m.type}`);
      }
    } catch (err) {
      reply(m.id, { ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  })();
});
