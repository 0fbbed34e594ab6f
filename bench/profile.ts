/**
 * Profile the client under load: one scenario-2 run at N calls, with the
 * emulator in its own process, optionally writing a V8 CPU profile of the
 * client process (open it in Chrome DevTools → Performance).
 *
 *   npx tsx bench/profile.ts [calls=300] [--cpu-prof] [--chunk-ms=100]
 *   BENCH_TIMELINE=1 npx tsx bench/profile.ts 400    # per-second timeline on stderr
 */
import { fileURLToPath } from 'node:url';
import { runWorker, Worker } from './lib/ipc.js';
import { EPD_MS, SEEDS_LATENCY } from './lib/sample-call.js';

const args = process.argv.slice(2);
const calls = Math.max(1, Math.min(5000, Number(args.find((a) => /^\d+$/.test(a)) ?? 300)));
const chunkMs = Number(args.find((a) => a.startsWith('--chunk-ms='))?.slice(11) ?? 100);
const profileDir = fileURLToPath(new URL('./results/', import.meta.url));
const host = new Worker('lib/emulator-host.ts');
try {
  const ep = await host.request<Record<string, unknown>>({ type: 'start', name: 'profile' });
  const result = await runWorker(
    'scenarios/load.ts',
    { calls, staggerMs: Math.min(5000, calls * 10), serverMs: EPD_MS + SEEDS_LATENCY.processingMs, epdMs: EPD_MS, chunkMs, ...ep },
    60_000 + calls * 40,
    ['--expose-gc', ...(args.includes('--cpu-prof') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
  );
  console.log(JSON.stringify(result, null, 2));
  if (args.includes('--cpu-prof')) console.log(`CPU profile written to ${profileDir}`);
} finally {
  await host.close();
}
