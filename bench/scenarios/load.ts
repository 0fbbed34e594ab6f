/**
 * Scenario 2 worker: N concurrent real-time calls in this process (the client
 * under test; the emulator runs in another process). Each call plays the
 * sample call once as Twilio would (20 ms mu-law frames, real time), starts
 * staggered evenly over `staggerMs`, and ends with `end()`. Measures, over the
 * whole run: process CPU %, event-loop delay (`monitorEventLoopDelay`, 10 ms
 * resolution, reported as delay beyond the resolution), RSS growth per call,
 * and every final's `finalLatencyMs` minus the emulator's own time after the
 * end of speech (EPD silence + recognition) = the library's overhead, split
 * into the frame-fill wait (audio of the end point waits until its
 * `chunkMs` frame is full: with 20 ms input at real time that is exactly
 * `ceil(P/chunkMs)·chunkMs − ceil(P/20)·20` ms for end point P) and the rest.
 *
 * With `otel: true`, an OpenTelemetry SDK is registered globally first (a
 * `BasicTracerProvider` whose `BatchSpanProcessor` exports to an exporter that
 * counts and discards spans, and a `MeterProvider` with an in-memory reader)
 * and the recognizer runs with `telemetry: true`: the cost of telemetry.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { RtzrProvider, StreamingRecognizer } from '../../src/index.js';
import { serve } from '../lib/ipc.js';
import { busyCores, cpuSample } from '../lib/machine.js';
import { play } from '../lib/pacer.js';
import { FRAME_MS, mulaw8k, truth } from '../lib/sample-call.js';
import { mean, percentile, round } from '../lib/stats.js';

export interface LoadInput {
  calls: number;
  staggerMs: number;
  /** The emulator's time from end of speech to final: EPD silence + processing, ms. */
  serverMs: number;
  /** The emulator's EPD silence, ms (the end point is at a final's endMs + epdMs). */
  epdMs: number;
  apiBase: string;
  websocketUrl: string;
  credentials: { clientId: string; clientSecret: string };
  /** RtzrProvider chunkMs (default 100). */
  chunkMs?: number;
  /** Register an OpenTelemetry SDK and enable the recognizer's telemetry. */
  otel?: boolean;
}

export interface LoadOutput {
  calls: number;
  finals: number;
  expectedFinals: number;
  failedCalls: number;
  firstErrors: string[];
  overheadMs: { p50: number; p99: number; mean: number; max: number };
  /** Part of the overhead spent waiting for the end point's frame to fill. */
  frameFillMs: { p50: number; p99: number; mean: number };
  /** Overhead minus frame fill: transport, conversion, event loop, emulator scheduling. */
  restMs: { p50: number; p99: number; mean: number; max: number };
  chunkMs: number;
  /** An OpenTelemetry SDK was registered and `telemetry: true` set. */
  otel: boolean;
  /** Spans the SDK exported (0 without `otel`). */
  spansExported: number;
  finalLatencyMs: { p50: number; p99: number };
  cpuPct: number;
  /** Client CPU time, s. */
  cpuSec: number;
  eldP99Ms: number;
  eldMaxMs: number;
  eldMeanMs: number;
  /** Machine-wide busy cores during the measured window (Linux), all processes. */
  machineBusyCores: number | null;
  rssBaseMB: number;
  rssPeakMB: number;
  rssPerCallKB: number;
  wallMs: number;
}

const RESOLUTION_MS = 10;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Register an OpenTelemetry SDK globally; returns the exported-span count and a shutdown. */
async function registerOtel(): Promise<{ spans: () => number; shutdown: () => Promise<void> }> {
  const { trace, metrics } = await import('@opentelemetry/api');
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader, InMemoryMetricExporter, AggregationTemporality } = await import('@opentelemetry/sdk-metrics');
  let exported = 0;
  const exporter = {
    export(spans: unknown[], done: (r: { code: number }) => void): void {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.DELTA), exportIntervalMillis: 5000 })],
  });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return {
    spans: () => exported,
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

async function run(input: LoadInput): Promise<LoadOutput> {
  const chunkMs = input.chunkMs ?? 100;
  const otel = input.otel ? await registerOtel() : undefined;
  const recognizer = new StreamingRecognizer({
    ...(otel ? { telemetry: true } : {}),
    providers: [
      new RtzrProvider({
        apiBase: input.apiBase,
        websocketUrl: input.websocketUrl,
        ...input.credentials,
        ...(input.chunkMs ? { chunkMs: input.chunkMs } : {}),
      }),
    ],
  });
  await recognizer.warmup(); // the token, as a production app would at start-up
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(100);
  const rssBase = process.memoryUsage.rss();
  let rssPeak = rssBase;
  const rssTimer = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 200);

  const latencies: number[] = [];
  const fills: number[] = [];
  const errors: string[] = [];
  let failedCalls = 0;
  const eld = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  eld.enable();
  const cpu0 = process.cpuUsage();
  const machine0 = cpuSample();
  const t0 = performance.now();

  // BENCH_TIMELINE=1: per-second event-loop delay, client CPU and machine-wide busy cores on stderr (diagnosis)
  let timeline: NodeJS.Timeout | undefined;
  if (process.env.BENCH_TIMELINE) {
    let prevStat = cpuSample();
    let prevCpu = process.cpuUsage();
    let prevT = performance.now();
    const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    h.enable();
    timeline = setInterval(() => {
      const st = cpuSample();
      const c = process.cpuUsage(prevCpu);
      const now = performance.now();
      const busy = busyCores(prevStat, st);
      process.stderr.write(
        `t=${((now - t0) / 1000).toFixed(1)}s ELD p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms, client CPU ${(((c.user + c.system) / 1000 / (now - prevT)) * 100).toFixed(0)}%, machine ${busy?.toFixed(2) ?? '?'} cores busy, ${latencies.length} finals\n`,
      );
      h.reset();
      prevStat = st;
      prevCpu = process.cpuUsage();
      prevT = now;
    }, 1000);
  }

  const call = async (i: number): Promise<void> => {
    await sleep((i * input.staggerMs) / input.calls);
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    stream.on('final', (t) => {
      latencies.push(t.latencyMs ?? 0);
      const p = t.endMs + input.epdMs;
      fills.push(Math.ceil(p / chunkMs) * chunkMs - Math.ceil(p / FRAME_MS) * FRAME_MS);
    });
    stream.on('error', (e) => {
      failedCalls++;
      if (errors.length < 5) errors.push(`${e.code}: ${e.message}`);
    });
    const playback = play(mulaw8k, (frame) => {
      if (stream.state === 'open' || stream.state === 'connecting') stream.write(frame);
      else playback.stop();
    });
    await playback.done;
    await stream.end();
  };
  await Promise.all(Array.from({ length: input.calls }, (_, i) => call(i)));

  if (timeline) clearInterval(timeline);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const machineBusy = busyCores(machine0, cpuSample());
  eld.disable();
  clearInterval(rssTimer);
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  await recognizer.close();
  await otel?.shutdown();

  const overhead = latencies.map((l) => l - input.serverMs);
  const rest = overhead.map((o, i) => o - fills[i]!);
  const beyond = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS), 1);
  return {
    calls: input.calls,
    finals: latencies.length,
    expectedFinals: input.calls * truth.utterances.length,
    failedCalls,
    firstErrors: errors,
    overheadMs: {
      p50: round(percentile(overhead, 50)),
      p99: round(percentile(overhead, 99)),
      mean: round(mean(overhead), 1),
      max: round(Math.max(...overhead)),
    },
    frameFillMs: { p50: round(percentile(fills, 50)), p99: round(percentile(fills, 99)), mean: round(mean(fills), 1) },
    restMs: {
      p50: round(percentile(rest, 50)),
      p99: round(percentile(rest, 99)),
      mean: round(mean(rest), 1),
      max: round(Math.max(...rest)),
    },
    chunkMs,
    otel: otel !== undefined,
    spansExported: otel?.spans() ?? 0,
    finalLatencyMs: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) },
    cpuPct: round(((cpu.user + cpu.system) / 1000 / wallMs) * 100, 1),
    cpuSec: round((cpu.user + cpu.system) / 1e6, 2),
    eldP99Ms: beyond(eld.percentile(99)),
    eldMaxMs: beyond(eld.max),
    eldMeanMs: beyond(eld.mean),
    machineBusyCores: machineBusy === undefined ? null : round(machineBusy, 2),
    rssBaseMB: round(rssBase / 2 ** 20, 1),
    rssPeakMB: round(rssPeak / 2 ** 20, 1),
    rssPerCallKB: round((rssPeak - rssBase) / 1024 / input.calls, 1),
    wallMs: round(wallMs),
  };
}

serve(async (msg) => run(msg.input as LoadInput));
