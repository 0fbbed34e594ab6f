/**
 * Scenario 4 worker: 100 calls (each the sample call at 10x real time,
 * arriving every `arrivalMs`) through one client variant; the orchestrator
 * reads the emulator's authenticate requests and WebSocket handshakes after.
 * Reports what was on the calls' critical path: token waits and handshakes
 * paid by the first utterance of a call.
 */
import { RtzrProvider, StreamingRecognizer, type UtteranceMetrics } from '../../src/index.js';
import { SeedsStyleCall } from '../baseline-client.js';
import { serve } from '../lib/ipc.js';
import { play } from '../lib/pacer.js';
import { mulaw8k } from '../lib/sample-call.js';

export interface HandshakeInput {
  variant: 'baseline' | 'defaults' | 'prewarm';
  calls: number;
  arrivalMs: number;
  speed: number;
  apiBase: string;
  websocketUrl: string;
  credentials: { clientId: string; clientSecret: string };
}

export interface HandshakeOutput {
  variant: string;
  calls: number;
  finals: number;
  /** Token requests a call waited for (baseline: every utterance's). */
  criticalTokenWaits: number;
  /** Handshakes a call waited for (baseline: every utterance's). */
  criticalHandshakes: number;
  errors: number;
  wallMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function run(input: HandshakeInput): Promise<HandshakeOutput> {
  const t0 = performance.now();
  let finals = 0;
  let errors = 0;
  let criticalTokenWaits = 0;
  let criticalHandshakes = 0;
  const endpoints = { apiBase: input.apiBase, websocketUrl: input.websocketUrl, ...input.credentials };

  if (input.variant === 'baseline') {
    const call = async (i: number): Promise<void> => {
      await sleep(i * input.arrivalMs);
      const c = new SeedsStyleCall(endpoints, () => finals++);
      await play(mulaw8k, (f) => c.write(f), input.speed).done;
      await c.end();
      criticalTokenWaits += c.stats.tokenRequests;
      criticalHandshakes += c.stats.sockets;
      errors += c.stats.errors;
    };
    await Promise.all(Array.from({ length: input.calls }, (_, i) => call(i)));
  } else {
    const recognizer = new StreamingRecognizer({
      providers: [new RtzrProvider({ ...endpoints, ...(input.variant === 'prewarm' ? { prewarm: 1 } : {}) })],
    });
    try {
      if (input.variant === 'prewarm') await recognizer.warmup();
      const call = async (i: number): Promise<void> => {
        await sleep(i * input.arrivalMs);
        const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
        let first: UtteranceMetrics | undefined;
        stream.on('metrics', (m) => {
          finals++;
          first ??= m;
        });
        stream.on('error', () => errors++);
        const playback = play(
          mulaw8k,
          (f) => {
            if (stream.state === 'open' || stream.state === 'connecting') stream.write(f);
            else playback.stop();
          },
          input.speed,
        );
        await playback.done;
        await stream.end();
        if (first && !first.tokenCached) criticalTokenWaits++;
        if (first && !first.prewarmed) criticalHandshakes++;
      };
      await Promise.all(Array.from({ length: input.calls }, (_, i) => call(i)));
    } finally {
      await recognizer.close();
    }
  }
  return {
    variant: input.variant,
    calls: input.calls,
    finals,
    criticalTokenWaits,
    criticalHandshakes,
    errors,
    wallMs: Math.round(performance.now() - t0),
  };
}

serve(async (msg) => run(msg.input as HandshakeInput));
