/**
 * The emulator process of the bench: runs RTZR emulators on 127.0.0.1 in a
 * process of their own, so the client under test is measured alone (CPU,
 * event-loop delay, RSS). The parent starts, queries and stops emulators by
 * request; this process exits when the parent disconnects.
 *
 * Latencies are the seeds' figures unless overridden: authenticate 500 ms,
 * WebSocket handshake 300 ms, recognition 400 ms after the end point.
 * Every emulator follows the sample call's script; a connection whose query
 * carries `bench_utterance=N` (the baseline client opens one socket per
 * utterance) starts the script at utterance N. RTZR ignores unknown parameters.
 */
import {
  ScriptCursor,
  startGoogleEmulator,
  startRtzrEmulator,
  type GoogleEmulator,
  type RtzrEmulator,
  type RtzrLatency,
} from '../../src/testing/index.js';
import { serve } from './ipc.js';
import { script, SEEDS_LATENCY } from './sample-call.js';

const emulators = new Map<string, RtzrEmulator>();
const googles = new Map<string, GoogleEmulator>();

serve(async (msg) => {
  switch (msg.type) {
    case 'start': {
      const name = String(msg.name);
      await emulators.get(name)?.close();
      const emu = await startRtzrEmulator({
        host: '127.0.0.1',
        script,
        scriptFor: ({ query }) => {
          const n = query.get('bench_utterance');
          return n === null ? undefined : script.slice(Number(n));
        },
        latency: { ...SEEDS_LATENCY, ...(msg.latency as Partial<RtzrLatency> | undefined) },
        maxConcurrent: Number(msg.maxConcurrent ?? 100_000),
      });
      emulators.set(name, emu);
      return { apiBase: emu.apiBase, websocketUrl: emu.websocketUrl, credentials: emu.credentials };
    }
    case 'start-google': {
      // one script cursor per call: each call tags its language (ko-KR-x-<call>), so concurrent calls
      // each get their own ground truth
      const name = String(msg.name);
      await googles.get(name)?.close();
      const cursors = new Map<string, ScriptCursor>();
      const google = await startGoogleEmulator({
        script,
        scriptFor: ({ languageCode }) => {
          let c = cursors.get(languageCode);
          if (!c) cursors.set(languageCode, (c = new ScriptCursor(script)));
          return c;
        },
        latency: { processingMs: Number(msg.processingMs ?? 0) },
      });
      googles.set(name, google);
      return { endpoint: google.endpoint, apiKey: google.apiKey };
    }
    case 'google-counters':
      return { ...googles.get(String(msg.name))?.counters };
    case 'stop-google': {
      const name = String(msg.name);
      await googles.get(name)?.close();
      googles.delete(name);
      return {};
    }
    case 'counters':
      return { ...emulators.get(String(msg.name))?.counters };
    case 'usage':
      return { cpu: process.cpuUsage(), rss: process.memoryUsage.rss() };
    case 'stop': {
      const name = String(msg.name);
      await emulators.get(name)?.close();
      emulators.delete(name);
      return {};
    }
    default:
      throw new Error(`unknown request ${String(msg.type)}`);
  }
});
