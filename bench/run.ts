/**
 * `npm run bench`: the latency, overhead, data-path and handshake benchmarks.
 *
 * Emulators run in their own process (lib/emulator-host.ts) with the seeds'
 * latencies; every client under test runs in a fresh process of its own.
 * Prints Markdown tables and writes every figure to bench/results/latest.json.
 * Only 127.0.0.1 traffic. Bounded: each worker has a timeout, the call-count
 * search has a step limit and stops when the time budget is spent.
 *
 *   npm run bench                 # everything (~5 min on 2 cores)
 *   npm run bench -- --quick      # a smoke run (~1 min)
 *   npm run bench -- --only=1,3   # some scenarios
 *   npm run bench -- --only=6     # resampling quality and speed (~30 s)
 *   npm run bench -- --only=7     # fallback path and handovers, end of speech → final (~45 s)
 *
 * Scenario 5 (a fleet on one RedisCoordinator) starts its own redis-server (Debian's package);
 * without it, that scenario is skipped with a message.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { RtzrEmulatorCounters } from '../src/testing/index.js';
import { runWorker, Worker } from './lib/ipc.js';
import { busyCores, cpuSample, waitForQuiet } from './lib/machine.js';
import { EPD_MS, SEEDS_LATENCY, truth } from './lib/sample-call.js';
import { mean, percentile, round, table } from './lib/stats.js';
import type { HandshakeOutput } from './scenarios/handshakes.js';
import type { LatencyOutput, LatencyVariant } from './scenarios/latency.js';
import type { LoadOutput } from './scenarios/load.js';
import type { FleetCall, FleetOutput } from './scenarios/fleet.js';
import { RedisServer, redisServerPath } from '../test/helpers/redis-server.js';
import type { ResamplingRow } from './scenarios/resampling.js';
import type { HandoverOutput, HandoverRow, HandoverVariant } from './scenarios/handover.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ALL_SCENARIOS = '1,2,3,4,5,6,7';
const only = new Set((args.find((a) => a.startsWith('--only='))?.slice(7) ?? ALL_SCENARIOS).split(','));
/** No load run starts unless it can finish before this (the whole bench must stay under 10 minutes). */
const DEADLINE_MS = 9 * 60_000;
/** Before a load run, wait (at most QUIET_WAIT_MS) until other work uses less than this many cores. */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = 10_000;
/** A load run that fails while others used more than this many cores is run once more. */
const NOISY_CORES = 0.25;
const MAX_RETRIES = 3;
const ELD_LIMIT_MS = 20;
const started = performance.now();
const elapsed = () => performance.now() - started;

interface Endpoints {
  apiBase: string;
  websocketUrl: string;
  credentials: { clientId: string; clientSecret: string };
}

const host = new Worker('lib/emulator-host.ts');
const startEmulator = (name: string, extra: Record<string, unknown> = {}) =>
  host.request<Endpoints>({ type: 'start', name, ...extra });
const counters = (name: string) => host.request<RtzrEmulatorCounters>({ type: 'counters', name });
const stopEmulator = (name: string) => host.request({ type: 'stop', name });

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  memoryGB: round(os.totalmem() / 2 ** 30, 1),
  emulator: { ...SEEDS_LATENCY, epdMs: EPD_MS },
  quick,
};
let failed = false;
const say = (s = '') => console.log(s);

// ─────────────────────────────── scenario 1 ───────────────────────────────
async function scenario1(): Promise<void> {
  say('## 1. Per-utterance latency: end of speech → final\n');
  const variants: LatencyVariant[] = ['baseline', 'defaults', 'prewarm', 'prewarm-vad'];
  const labels: Record<LatencyVariant, string> = {
    baseline: 'seeds baseline',
    defaults: 'streaming-stt defaults',
    prewarm: 'streaming-stt prewarm: 1',
    'prewarm-vad': 'prewarm: 1 + finalize() on 0.1 s silence',
  };
  const calls = quick ? 1 : 2;
  await waitForQuiet(QUIET_CORES, QUIET_WAIT_MS);
  const m0 = cpuSample();
  const eps = await Promise.all(variants.map((v) => startEmulator(`s1-${v}`)));
  // the four clients run side by side, one process each, one emulator each (1 call at a time: negligible load)
  const outs = await Promise.all(
    variants.map((variant, i) =>
      runWorker<LatencyOutput>('scenarios/latency.ts', { variant, calls, gapMs: 1000, ...eps[i]! }, 120_000),
    ),
  );
  const count = await Promise.all(variants.map((v) => counters(`s1-${v}`)));
  await Promise.all(variants.map((v) => stopEmulator(`s1-${v}`)));
  const machineBusy = busyCores(m0, cpuSample());

  const by = Object.fromEntries(outs.map((o) => [o.variant, o])) as Record<LatencyVariant, LatencyOutput>;
  const key = (c: number, u: number) => `${c}/${u}`;
  const lat = (v: LatencyVariant) => new Map(by[v].rows.map((r) => [key(r.call, r.utterance), r]));
  const maps = Object.fromEntries(variants.map((v) => [v, lat(v)])) as Record<LatencyVariant, Map<string, (typeof by)['baseline']['rows'][0]>>;
  const rows: (string | number)[][] = [];
  for (let c = 1; c <= calls; c++) {
    truth.utterances.forEach((t, u) => {
      const b = maps.baseline.get(key(c, u))?.eosToFinalMs ?? Number.NaN;
      const row: (string | number)[] = [c, u, t.text, round(b)];
      for (const v of variants.slice(1)) {
        const x = maps[v].get(key(c, u))?.eosToFinalMs ?? Number.NaN;
        row.push(round(x), `${round(x / b, 2)}×`);
      }
      rows.push(row);
    });
  }
  const meanOf = (v: LatencyVariant) => mean(by[v].rows.map((r) => r.eosToFinalMs));
  const mb = meanOf('baseline');
  rows.push(['', '', '**mean**', round(mb), ...variants.slice(1).flatMap((v) => [round(meanOf(v)), `${round(meanOf(v) / mb, 2)}×`])]);
  say(
    table(
      ['call', 'utt', 'text', 'baseline ms', 'defaults ms', 'vs base', 'prewarm ms', 'vs base', 'prewarm+VAD ms', 'vs base'],
      rows,
    ),
  );
  say();
  const first = (v: LatencyVariant) => by[v].rows.find((r) => r.call === 1 && r.utterance === 0)?.metrics;
  const setup = variants.slice(1).map((v) => {
    const m = first(v);
    return [labels[v], m ? m.tokenMs : '-', m ? String(m.tokenCached) : '-', m ? m.connectMs : '-', m ? String(m.prewarmed) : '-'];
  });
  say('First utterance of the first call, from `metrics`:\n');
  say(table(['client', 'tokenMs', 'tokenCached', 'connectMs', 'prewarmed'], setup));
  say();
  const textsOk = Object.fromEntries(outs.map((o) => [o.variant, o.rows.every((r) => r.textOk) && o.rows.length === calls * truth.utterances.length]));
  say(`All finals match the ground truth: ${JSON.stringify(textsOk)}`);
  if (machineBusy !== undefined) say(`Machine-wide CPU during this scenario (all processes): ${round(machineBusy, 2)} cores busy`);
  const errors = outs.flatMap((o) => o.errors.map((e) => `${o.variant}: ${e}`));
  if (errors.length > 0) {
    failed = true;
    say(`Errors: ${errors.join('; ')}`);
  }
  say();
  results.scenario1 = {
    description: 'ground-truth end of speech → final arrival, wall ms; sample call played twice in real time',
    calls,
    machineBusyCores: machineBusy === undefined ? null : round(machineBusy, 2),
    variants: Object.fromEntries(
      outs.map((o, i) => [
        o.variant,
        {
          label: labels[o.variant],
          meanMs: round(meanOf(o.variant), 1),
          p50Ms: round(percentile(o.rows.map((r) => r.eosToFinalMs), 50)),
          ratioToBaseline: round(meanOf(o.variant) / mb, 3),
          rows: o.rows.map((r) => ({ ...r, eosToFinalMs: round(r.eosToFinalMs, 1) })),
          emulator: { authRequests: count[i]!.authRequests, connections: count[i]!.connections },
          errors: o.errors,
        },
      ]),
    ),
  };
}

// ─────────────────────────────── scenario 2 ───────────────────────────────
interface LoadRow extends LoadOutput {
  emulatorCpuPct: number;
  /** Cores used by other processes during the measured window (machine-wide minus client and emulator). */
  otherCores: number | null;
  staggerMs: number;
  /** 2 when this is the rerun of a run disturbed by other processes. */
  attempt: number;
}

const staggerFor = (calls: number) => Math.min(5000, calls * 10);
/** Rough wall time of a load run, ms (quiet wait + start-up + stagger + one call + end). */
const runEstimateMs = (calls: number) => QUIET_WAIT_MS + 4000 + staggerFor(calls) + truth.durationMs + 3000 + calls * 5;
let retries = 0;

/** Variants of a load run: the provider's frame size, and an OpenTelemetry SDK registered with `telemetry: true`. */
interface LoadVariant {
  chunkMs?: number;
  otel?: boolean;
}

async function loadRunOnce(calls: number, attempt: number, { chunkMs, otel }: LoadVariant = {}): Promise<LoadRow> {
  await waitForQuiet(QUIET_CORES, QUIET_WAIT_MS);
  const name = `s2-${calls}-${attempt}`;
  const ep = await startEmulator(name);
  const staggerMs = staggerFor(calls);
  const u0 = await host.request<{ cpu: NodeJS.CpuUsage }>({ type: 'usage' });
  try {
    const r = await runWorker<LoadOutput>(
      'scenarios/load.ts',
      { calls, staggerMs, serverMs: EPD_MS + SEEDS_LATENCY.processingMs, epdMs: EPD_MS, ...ep, ...(chunkMs ? { chunkMs } : {}), ...(otel ? { otel } : {}) },
      60_000 + calls * 40,
      ['--expose-gc'],
    );
    const u1 = await host.request<{ cpu: NodeJS.CpuUsage }>({ type: 'usage' });
    const emuSec = (u1.cpu.user - u0.cpu.user + u1.cpu.system - u0.cpu.system) / 1e6;
    const wallSec = r.wallMs / 1000;
    const otherCores = r.machineBusyCores === null ? null : round(Math.max(0, r.machineBusyCores - (r.cpuSec + emuSec) / wallSec), 2);
    return { ...r, staggerMs, attempt, otherCores, emulatorCpuPct: round((emuSec / wallSec) * 100, 1) };
  } finally {
    await stopEmulator(name);
  }
}

const sustained = (r: LoadRow) => r.eldP99Ms < ELD_LIMIT_MS && r.failedCalls === 0 && r.finals === r.expectedFinals;

/** One load level; rerun once when it fails while other processes were busy (bounded by MAX_RETRIES). */
async function loadRun(calls: number, variant: LoadVariant = {}): Promise<LoadRow> {
  const r = await loadRunOnce(calls, 1, variant);
  if (sustained(r) || (r.otherCores ?? 0) <= NOISY_CORES || retries >= MAX_RETRIES) return r;
  if (elapsed() + runEstimateMs(calls) > DEADLINE_MS) return r;
  retries++;
  say(`  ${calls} calls: over the limit while other processes used ${r.otherCores} cores; running it once more`);
  return loadRunOnce(calls, 2, variant);
}

function loadRowCells(r: LoadRow): (string | number)[] {
  return [
    `${r.calls}${r.chunkMs !== 100 ? ` (chunkMs ${r.chunkMs})` : ''}${r.otel ? ' (OTel SDK)' : ''}${r.attempt > 1 ? ' (rerun)' : ''}`,
    `${r.finals}/${r.expectedFinals}`,
    r.overheadMs.p50,
    r.overheadMs.p99,
    `${r.frameFillMs.mean} / ${r.restMs.p50} / ${r.restMs.p99}`,
    r.finalLatencyMs.p50,
    r.cpuPct,
    r.eldP99Ms,
    r.eldMaxMs,
    r.rssPerCallKB,
    r.emulatorCpuPct,
    r.otherCores ?? '-',
  ];
}

async function scenario2(): Promise<void> {
  say(`## 2. Overhead under load (real-time Twilio-paced calls, emulator EPD ${EPD_MS} ms + recognition ${SEEDS_LATENCY.processingMs} ms)\n`);
  const levels = quick ? [1, 50] : [1, 50, 200, 500];
  const rows: LoadRow[] = [];
  for (const n of levels) {
    if (elapsed() + runEstimateMs(n) > DEADLINE_MS) {
      say(`  ${n} calls: skipped, the time budget is spent`);
      continue;
    }
    const r = await loadRun(n);
    rows.push(r);
    say(`  ${n} calls: overhead p50 ${r.overheadMs.p50} ms (rest ${r.restMs.p50}), p99 ${r.overheadMs.p99} ms, ELD p99 ${r.eldP99Ms} ms, CPU ${r.cpuPct}% (${Math.round(elapsed() / 1000)} s)`);
  }
  // what a smaller frame buys (frame-fill wait) and costs (CPU), at a fixed load
  const COMPARE_CALLS = 200;
  const compare: LoadRow[] = [];
  if (!quick && elapsed() + runEstimateMs(COMPARE_CALLS) <= DEADLINE_MS) {
    const r = await loadRun(COMPARE_CALLS, { chunkMs: 20 });
    compare.push(r);
    say(`  ${COMPARE_CALLS} calls with chunkMs 20: overhead p50 ${r.overheadMs.p50} ms, p99 ${r.overheadMs.p99} ms, CPU ${r.cpuPct}% (${Math.round(elapsed() / 1000)} s)`);
  }
  // the cost of OpenTelemetry: the same load without and with an SDK registered (telemetry: true), back to back
  const otelPairs: [LoadRow, LoadRow][] = [];
  for (const n of quick ? [50] : [200, 500]) {
    if (elapsed() + 2 * runEstimateMs(n) > DEADLINE_MS) {
      say(`  OpenTelemetry comparison at ${n} calls: skipped, the time budget is spent`);
      continue;
    }
    const off = await loadRun(n);
    const on = await loadRun(n, { otel: true });
    otelPairs.push([off, on]);
    say(`  ${n} calls without / with an OpenTelemetry SDK: CPU ${off.cpuPct}% / ${on.cpuPct}%, ELD p99 ${off.eldP99Ms} / ${on.eldP99Ms} ms, ${on.spansExported} spans (${Math.round(elapsed() / 1000)} s)`);
  }
  // largest call count with event-loop delay p99 under the limit: doubling, then bisection; bounded
  const search: LoadRow[] = [];
  const ok = sustained;
  let pass = Math.max(0, ...rows.filter(ok).map((r) => r.calls));
  let fail = Math.min(Infinity, ...rows.filter((r) => !ok(r)).map((r) => r.calls));
  const CAP = 4000;
  for (let step = 0; !quick && step < 5; step++) {
    let next: number;
    if (!Number.isFinite(fail)) {
      if (pass >= CAP) break;
      next = Math.min(CAP, pass * 2);
    } else {
      if (fail - pass <= Math.max(50, pass * 0.15)) break;
      next = Math.round((pass + fail) / 2 / 50) * 50;
    }
    if (elapsed() + runEstimateMs(next) > DEADLINE_MS) {
      say(`  search stopped before ${next} calls: the time budget is spent`);
      break;
    }
    const r = await loadRun(next);
    search.push(r);
    say(`  search ${next} calls: ELD p99 ${r.eldP99Ms} ms, overhead p99 ${r.overheadMs.p99} ms, CPU ${r.cpuPct}% → ${ok(r) ? 'sustained' : 'over the limit'} (${Math.round(elapsed() / 1000)} s)`);
    if (ok(r)) pass = Math.max(pass, next);
    else fail = Math.min(fail, next);
  }
  say();
  const header = ['calls', 'finals', 'overhead p50 ms', 'overhead p99 ms', 'frame fill mean / rest p50 / rest p99 ms', 'final p50 ms', 'CPU %', 'ELD p99 ms', 'ELD max ms', 'RSS/call KB', 'emulator CPU %', 'others (cores)'];
  say(table(header, [...rows, ...search].sort((a, b) => a.calls - b.calls).map(loadRowCells)));
  if (compare.length > 0) {
    say();
    say('Frame size comparison (same load, `chunkMs: 20` instead of the default 100):\n');
    say(table(header, [...rows.filter((r) => r.calls === COMPARE_CALLS), ...compare].map(loadRowCells)));
  }
  if (otelPairs.length > 0) {
    say();
    say('OpenTelemetry: the same load without, then with an SDK registered (`telemetry: true`; spans to a discarding exporter through a BatchSpanProcessor, metrics to an in-memory reader), back to back:\n');
    say(table([...header, 'CPU on/off', 'spans'], otelPairs.flatMap(([off, on]) => [
      [...loadRowCells(off), '', ''],
      [...loadRowCells(on), `${round(on.cpuPct / off.cpuPct, 2)}×`, on.spansExported],
    ])));
  }
  say();
  const verdict = Number.isFinite(fail)
    ? `largest call count sustained with event-loop delay p99 < ${ELD_LIMIT_MS} ms: ${pass} (${fail} was over)`
    : `largest call count sustained with event-loop delay p99 < ${ELD_LIMIT_MS} ms: at least ${pass} (search cap ${CAP} or time budget reached)`;
  say(verdict);
  say();
  for (const r of [...rows, ...search]) if (r.firstErrors.length > 0) say(`  errors at ${r.calls} calls: ${r.firstErrors.join('; ')}`);
  results.scenario2 = {
    description:
      'overhead = finalLatencyMs − (emulator EPD silence + recognition); CPU % of one core for the client process; ELD = event-loop delay beyond the 10 ms sampling interval; RSS growth per call; otherCores = CPU used by processes other than the client and the emulator during the run',
    levels: rows,
    search,
    chunkMsComparison: compare,
    otelComparison: otelPairs.map(([off, on]) => ({ calls: off.calls, off, on, cpuRatio: round(on.cpuPct / off.cpuPct, 3) })),
    maxCallsUnderEld: { limitMs: ELD_LIMIT_MS, pass, fail: Number.isFinite(fail) ? fail : null, verdict },
  };
}

// ─────────────────────────────── scenario 3 ───────────────────────────────
async function scenario3(): Promise<void> {
  say('## 3. Data path throughput (decode + resample + chunk)\n');
  const out = await runWorker<{ path: string; audioSecPerCpuSec: number; medianAudioSecPerCpuSec: number; cpuMs: number }[]>(
    'scenarios/data-path.ts',
    { cpuBudgetMs: quick ? 500 : 2500 },
    60_000,
  );
  say(
    table(
      ['path', 'audio-seconds per CPU-second (best of 5)', 'median of 5'],
      out.map((r) => [r.path, r.audioSecPerCpuSec, r.medianAudioSecPerCpuSec]),
    ),
  );
  say();
  results.scenario3 = { description: 'sample call in 20 ms frames through AudioConverter + FrameChunker (100 ms frames)', paths: out };
}

// ─────────────────────────────── scenario 4 ───────────────────────────────
async function scenario4(): Promise<void> {
  const calls = quick ? 20 : 100;
  const arrivalMs = 400;
  say(`## 4. Authenticate requests and socket handshakes per 100 calls (${calls} calls, one every ${arrivalMs} ms, 10× real time)\n`);
  const variants = ['baseline', 'defaults', 'prewarm'] as const;
  const eps = await Promise.all(variants.map((v) => startEmulator(`s4-${v}`)));
  const outs = await Promise.all(
    variants.map((variant, i) =>
      runWorker<HandshakeOutput>('scenarios/handshakes.ts', { variant, calls, arrivalMs, speed: 10, ...eps[i]! }, 180_000),
    ),
  );
  const count = await Promise.all(variants.map((v) => counters(`s4-${v}`)));
  await Promise.all(variants.map((v) => stopEmulator(`s4-${v}`)));
  const per100 = (x: number) => round((x * 100) / calls, 1);
  const rows = outs.map((o, i) => [
    o.variant === 'baseline' ? 'seeds baseline' : o.variant === 'defaults' ? 'streaming-stt defaults' : 'streaming-stt prewarm: 1',
    per100(count[i]!.authRequests),
    per100(count[i]!.connections),
    per100(o.criticalTokenWaits),
    per100(o.criticalHandshakes),
    `${o.finals}/${calls * truth.utterances.length}`,
  ]);
  say(table(['client', 'authenticate requests', 'handshakes', 'token waits on a call path', 'handshakes on a call path', 'finals'], rows));
  say();
  if (outs.some((o) => o.errors > 0)) {
    failed = true;
    say(`Errors: ${outs.map((o) => `${o.variant} ${o.errors}`).join(', ')}`);
  }
  results.scenario4 = {
    description: 'per 100 calls; "on a call path" = paid by a call (library: by its first utterance; baseline: by every utterance)',
    calls,
    arrivalMs,
    variants: Object.fromEntries(
      outs.map((o, i) => [
        o.variant,
        {
          authRequestsPer100: per100(count[i]!.authRequests),
          handshakesPer100: per100(count[i]!.connections),
          criticalTokenWaitsPer100: per100(o.criticalTokenWaits),
          criticalHandshakesPer100: per100(o.criticalHandshakes),
          finals: o.finals,
          errors: o.errors,
        },
      ]),
    ),
  };
}

// ─────────────────────────────── scenario 5 ───────────────────────────────
async function scenario5(): Promise<void> {
  const processes = 4;
  const callsEach = 10;
  const budget = 20;
  const speed = quick ? 4 : 1;
  say(
    `## 5. A fleet: ${processes} processes × ${callsEach} concurrent calls, RTZR budget ${budget} channels, Google as fallback (${speed === 1 ? 'real time' : `${speed}× real time`})\n`,
  );
  if (!redisServerPath) {
    say('Skipped: redis-server is not installed (apt-get install redis-server).\n');
    results.scenario5 = { skipped: 'redis-server not installed' };
    return;
  }
  const redis = await RedisServer.start();
  const variants = ['alone', 'redis'] as const;
  const labels = { alone: 'no coordinator (maxConcurrent 20 per process)', redis: 'RedisCoordinator (maxConcurrent 20, fleet-wide)' };
  const out: Record<string, unknown> = {};
  const rows: (string | number)[][] = [];
  try {
    for (const variant of variants) {
      await waitForQuiet(QUIET_CORES, QUIET_WAIT_MS);
      const name = `s5-${variant}`;
      const ep = await startEmulator(name, { maxConcurrent: budget });
      const google = await host.request<{ endpoint: string; apiKey: string }>({ type: 'start-google', name, processingMs: SEEDS_LATENCY.processingMs });
      const startAt = Date.now() + 5000; // every worker starts its calls at the same moment
      const namespace = `bench-${startAt}`;
      let outs: FleetOutput[];
      let count: RtzrEmulatorCounters;
      try {
        outs = await Promise.all(
          Array.from({ length: processes }, (_, worker) =>
            runWorker<FleetOutput>(
              'scenarios/fleet.ts',
              {
                worker,
                calls: callsEach,
                speed,
                startAt,
                maxConcurrent: budget,
                apiBase: ep.apiBase,
                credentials: ep.credentials,
                google,
                namespace,
                ...(variant === 'redis' ? { redisPort: redis.port } : {}),
              },
              120_000,
            ),
          ),
        );
      } finally {
        count = await counters(name);
        await stopEmulator(name);
        await host.request({ type: 'stop-google', name });
      }
      const calls: FleetCall[] = outs.flatMap((o) => o.calls);
      const onGoogle = calls.filter((c) => c.openedOn === 'google');
      const finals = (p: string) => calls.reduce((k, c) => k + (c.finalsByProvider[p] ?? 0), 0);
      const pct = (xs: (number | null)[], p: number) => round(percentile(xs.filter((x): x is number => x !== null), p));
      const ok = calls.filter((c) => c.textsOk && !c.error).length;
      if (ok !== calls.length) failed = true;
      const v = {
        label: labels[variant],
        calls: calls.length,
        handshakesRejected429: count.rateLimitedConnections,
        peakRtzrChannels: count.peakOpenConnections,
        authenticateRequests: count.authRequests,
        callsOnRtzr: calls.length - onGoogle.length,
        callsOnGoogle: onGoogle.length,
        finalsOnRtzr: finals('rtzr'),
        finalsOnGoogle: finals('google'),
        openMs: { p50: pct(calls.map((c) => c.openMs), 50), p95: pct(calls.map((c) => c.openMs), 95) },
        overflowOpenMs: { p50: pct(onGoogle.map((c) => c.openMs), 50), p95: pct(onGoogle.map((c) => c.openMs), 95) },
        firstPartialMs: { p50: pct(calls.map((c) => c.firstPartialMs), 50), p95: pct(calls.map((c) => c.firstPartialMs), 95) },
        firstFinalMs: { p50: pct(calls.map((c) => c.firstFinalMs), 50), p95: pct(calls.map((c) => c.firstFinalMs), 95) },
        callsWithEveryFinalRight: ok,
        coordinatorOutages: outs.reduce((k, o) => k + o.coordinatorEvents.filter((e) => !e).length, 0),
        errors: calls.filter((c) => c.error).map((c) => c.error),
      };
      out[variant] = v;
      rows.push([
        v.label,
        v.handshakesRejected429,
        v.peakRtzrChannels,
        v.authenticateRequests,
        `${v.callsOnRtzr} / ${v.callsOnGoogle}`,
        `${v.finalsOnRtzr} / ${v.finalsOnGoogle}`,
        `${v.overflowOpenMs.p50} / ${v.overflowOpenMs.p95}`,
        `${v.openMs.p50} / ${v.openMs.p95}`,
        `${v.firstPartialMs.p50} / ${v.firstPartialMs.p95}`,
        `${v.firstFinalMs.p50} / ${v.firstFinalMs.p95}`,
        `${ok}/${calls.length}`,
      ]);
      say(
        `  ${variant}: ${v.handshakesRejected429} handshakes rejected, ${v.callsOnGoogle} calls on Google, ${v.coordinatorOutages} coordinator outages (${Math.round(elapsed() / 1000)} s)`,
      );
    }
  } finally {
    await redis.stop();
  }
  say();
  say(
    table(
      [
        'fleet',
        'handshakes rejected (429)',
        'peak RTZR channels',
        'authenticate requests',
        'calls on RTZR / Google',
        'finals on RTZR / Google',
        'overflow call start → open p50 / p95 ms',
        'call start → open p50 / p95 ms',
        'call start → first partial p50 / p95 ms',
        'call start → first final p50 / p95 ms',
        'calls with every final right',
      ],
      rows,
    ),
  );
  say();
  results.scenario5 = {
    description:
      'processes × concurrent calls against one RTZR emulator with a channel budget (429 A0002 beyond it) and a Google emulator; times from stream creation, wall ms; the sample call speaks from 0.8 s',
    processes,
    callsEach,
    budget,
    speed,
    variants: out,
  };
}

// ─────────────────────────────── scenario 6 ───────────────────────────────
async function scenario6(): Promise<void> {
  say('## 6. Resampling quality and speed, 8 kHz ↔ 16 kHz\n');
  const rows = await runWorker<ResamplingRow[]>('scenarios/resampling.ts', { cpuBudgetMs: quick ? 400 : 1500 }, 180_000);
  for (const direction of ['8→16 kHz', '16→8 kHz'] as const) {
    const own = rows.filter((r) => r.direction === direction);
    const base = own.find((r) => r.implementation.includes('0.1'))?.audioSecPerCpuSec ?? Number.NaN;
    say(`${direction}${direction === '8→16 kHz' ? ' (image rejection: tones 50–3400 Hz, images at 8000 − f)' : ' (alias rejection: tones 4.6–7.95 kHz, aliases at 8000 − f)'}:\n`);
    say(
      table(
        ['implementation', 'ripple to 3.4 kHz dB', 'gain 3.4 kHz dB', 'gain 3.6 kHz dB', direction === '8→16 kHz' ? 'worst image dB' : 'worst alias dB', 'audio-s per CPU-s (best of 5)', 'median', 'vs 0.1'],
        own.map((r) => [
          r.implementation,
          r.rippleDb,
          r.gain3400Db,
          r.gain3600Db,
          r.worstMirrorDb,
          r.audioSecPerCpuSec,
          r.medianAudioSecPerCpuSec,
          `${round(r.audioSecPerCpuSec / base, 2)}×`,
        ]),
      ),
    );
    say();
  }
  results.scenario6 = {
    description:
      'tone sweeps (float, 0.1 s DFT windows) and the sample call in 20 ms Int16 frames; ripple = max |gain| of tones 50–3400 Hz; worst mirror = image (up) or alias (down) level relative to the tone',
    rows,
  };
}

// ─────────────────────────────── scenario 7 ───────────────────────────────
async function scenario7(): Promise<void> {
  say('## 7. The fallback path and handovers: end of speech → final\n');
  const variants: HandoverVariant[] = ['rtzr', 'fallback-rest', 'fallback-streaming', 'streaming', 'rotation', 'switchback'];
  const calls = quick ? 1 : 2;
  await waitForQuiet(QUIET_CORES, QUIET_WAIT_MS);
  const m0 = cpuSample();
  // side by side, one process each (each with its own emulators; one call at a time: little load)
  const outs = await Promise.all(
    variants.map((variant) => runWorker<HandoverOutput>('scenarios/handover.ts', { variant, calls, gapMs: 1000 }, 120_000)),
  );
  const machineBusy = busyCores(m0, cpuSample());
  const by = Object.fromEntries(outs.map((o) => [o.variant, o])) as Record<HandoverVariant, HandoverOutput>;
  const key = (r: { call: number; utterance: number }) => `${r.call}/${r.utterance}`;
  const maps = Object.fromEntries(variants.map((v) => [v, new Map(by[v].rows.map((r) => [key(r), r]))])) as Record<
    HandoverVariant,
    Map<string, HandoverRow>
  >;
  const cell = (v: HandoverVariant, k: string, base: HandoverVariant): (string | number)[] => {
    const r = maps[v].get(k);
    const b = maps[base].get(k)?.eosToFinalMs ?? Number.NaN;
    if (!r) return ['-', '-'];
    const mark = `${r.afterHandover ? ' ⇄' : ''}${v === 'switchback' && r.provider !== 'rtzr' ? ' (G)' : ''}`;
    return [`${round(r.eosToFinalMs)}${mark}`, `${round(r.eosToFinalMs / b, 2)}×`];
  };
  const rows: (string | number)[][] = [];
  for (let c = 1; c <= calls; c++) {
    truth.utterances.forEach((t, u) => {
      const k = `${c}/${u}`;
      rows.push([
        c,
        u,
        t.text,
        round(maps.rtzr.get(k)?.eosToFinalMs ?? Number.NaN),
        ...cell('fallback-rest', k, 'rtzr'),
        ...cell('fallback-streaming', k, 'rtzr'),
        ...cell('switchback', k, 'rtzr'),
        round(maps.streaming.get(k)?.eosToFinalMs ?? Number.NaN),
        ...cell('rotation', k, 'streaming'),
      ]);
    });
  }
  const meanOf = (v: HandoverVariant, pick: (r: HandoverRow) => boolean = () => true) => mean(by[v].rows.filter(pick).map((r) => r.eosToFinalMs));
  const ratio = (v: HandoverVariant, base: HandoverVariant, pick?: (r: HandoverRow) => boolean) => {
    const own = by[v].rows.filter(pick ?? (() => true));
    return mean(own.map((r) => r.eosToFinalMs)) / mean(own.map((r) => maps[base].get(key(r))?.eosToFinalMs ?? Number.NaN));
  };
  rows.push([
    '',
    '',
    '**mean**',
    round(meanOf('rtzr')),
    round(meanOf('fallback-rest')),
    `${round(ratio('fallback-rest', 'rtzr'), 2)}×`,
    round(meanOf('fallback-streaming')),
    `${round(ratio('fallback-streaming', 'rtzr'), 2)}×`,
    round(meanOf('switchback')),
    `${round(ratio('switchback', 'rtzr'), 2)}×`,
    round(meanOf('streaming')),
    round(meanOf('rotation')),
    `${round(ratio('rotation', 'streaming'), 2)}×`,
  ]);
  say(
    table(
      ['call', 'utt', 'text', 'RTZR ms', 'fallback: REST ms', 'vs RTZR', 'fallback: streaming ms', 'vs RTZR', 'switch-back ms', 'vs RTZR', 'Google streaming ms', 'rotation ms', 'vs streaming'],
      rows,
    ),
  );
  say();
  const after = (r: HandoverRow) => r.afterHandover;
  say(
    `First final after a handover (⇄): rotation ${round(ratio('rotation', 'streaming', after), 2)}× its no-rotation twin (${by.rotation.rows.filter(after).length} finals), ` +
      `switch-back ${round(ratio('switchback', 'rtzr', after), 2)}× RTZR alone (${by.switchback.rows.filter(after).length}). (G): the final came from Google.`,
  );
  const partialOf = (v: HandoverVariant) => {
    const ms = by[v].rows.flatMap((r) => (r.firstPartialMs === undefined ? [] : [r.firstPartialMs]));
    return ms.length === 0 ? 'none' : `${round(mean(ms))} ms`;
  };
  say(
    `Start of speech → first partial, mean: RTZR ${partialOf('rtzr')}; fallback, REST ${partialOf('fallback-rest')}; fallback, streaming ${partialOf('fallback-streaming')}; switch-back ${partialOf('switchback')}; Google streaming ${partialOf('streaming')}; rotation ${partialOf('rotation')}.`,
  );
  for (const v of ['rotation', 'switchback'] as const) by[v].events.forEach((e, i) => say(`${v}, call ${i + 1}: ${e.join('; ') || 'no handover'}`));
  const textsOk = Object.fromEntries(outs.map((o) => [o.variant, o.rows.every((r) => r.textOk) && o.rows.length === calls * truth.utterances.length]));
  say(`All finals match the ground truth: ${JSON.stringify(textsOk)}`);
  if (machineBusy !== undefined) say(`Machine-wide CPU during this scenario (all processes): ${round(machineBusy, 2)} cores busy`);
  const errors = outs.flatMap((o) => o.errors.map((e) => `${o.variant}: ${e}`));
  if (errors.length > 0 || Object.values(textsOk).some((ok) => !ok)) {
    failed = true;
    say(`Errors: ${errors.join('; ') || 'finals do not match the ground truth'}`);
  }
  say();
  results.scenario7 = {
    description:
      'ground-truth end of speech → final arrival, wall ms; sample call played in real time; emulators in each variant\'s process, recognition 400 ms after the end point',
    calls,
    machineBusyCores: machineBusy === undefined ? null : round(machineBusy, 2),
    variants: Object.fromEntries(
      outs.map((o) => [
        o.variant,
        {
          meanMs: round(meanOf(o.variant), 1),
          rows: o.rows.map((r) => ({ ...r, eosToFinalMs: round(r.eosToFinalMs, 1) })),
          events: o.events,
          errors: o.errors,
        },
      ]),
    ),
    ratios: {
      fallbackRestVsRtzr: round(ratio('fallback-rest', 'rtzr'), 3),
      fallbackStreamingVsRtzr: round(ratio('fallback-streaming', 'rtzr'), 3),
      rotationVsStreaming: round(ratio('rotation', 'streaming'), 3),
      rotationFirstFinalAfterHandover: round(ratio('rotation', 'streaming', after), 3),
      switchbackVsRtzr: round(ratio('switchback', 'rtzr'), 3),
      switchbackFirstFinalAfterHandover: round(ratio('switchback', 'rtzr', after), 3),
    },
  };
}

// ─────────────────────────────── main ───────────────────────────────
say(`# streaming-stt bench — ${results.date as string}, Node ${process.version}, ${results.cpus as number} × ${results.cpuModel as string}\n`);
say(`Emulator (separate process): authenticate ${SEEDS_LATENCY.authMs} ms, handshake ${SEEDS_LATENCY.connectMs} ms, EPD ${EPD_MS} ms, recognition ${SEEDS_LATENCY.processingMs} ms after the end point.\n`);
// scenario 2 runs last: its call-count search uses whatever time is left before the deadline
const scenarios: [string, () => Promise<void>][] = [
  ['1', scenario1],
  ['3', scenario3],
  ['6', scenario6],
  ['7', scenario7],
  ['4', scenario4],
  ['5', scenario5],
  ['2', scenario2],
];
try {
  for (const [id, fn] of scenarios) {
    if (!only.has(id)) continue;
    try {
      await fn();
    } catch (err) {
      failed = true;
      say(`scenario ${id} failed: ${err instanceof Error ? err.message : String(err)}\n`);
      results[`scenario${id}`] = { error: String(err) };
    }
  }
} finally {
  await host.close();
}
results.totalSeconds = round(elapsed() / 1000);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
// only a full run replaces the committed results; quick or partial runs write an ignored file
const partial = quick || ALL_SCENARIOS.split(',').some((id) => !only.has(id));
const file = `${dir}${partial ? 'partial.tmp.json' : 'latest.json'}`;
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
say(`Done in ${results.totalSeconds as number} s; figures written to ${file}`);
process.exitCode = failed ? 1 : 0;
