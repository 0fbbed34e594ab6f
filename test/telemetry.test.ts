/**
 * OpenTelemetry: spans and metrics of a real call through the RTZR emulator that drops, is
 * refused on reconnect, and falls back to the Google emulator, recorded by the OpenTelemetry SDK
 * with its in-memory exporters. Also: the global providers (`telemetry: true`), nothing
 * subscribed when off, and a process without `@opentelemetry/api`.
 */
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { context, metrics, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type ContextManager } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, diagnosticsChannels, GoogleProvider, RtzrProvider, StreamingRecognizer, type StreamSummary } from '../src/index.js';
import { ScriptCursor, startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { playCall, script, writeCall } from './helpers/sample-call.js';

interface Sdk {
  spans: InMemorySpanExporter;
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  exporter: InMemoryMetricExporter;
  reader: PeriodicExportingMetricReader;
}

function sdk(): Sdk {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // exported on demand (forceFlush); the interval never fires during a test
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  return { spans, tracerProvider, meterProvider, exporter, reader };
}

/** Every metric of the last export, by name. */
async function collect(s: Sdk): Promise<Map<string, MetricData>> {
  await s.reader.forceFlush();
  const all = s.exporter.getMetrics();
  const last = all[all.length - 1];
  const out = new Map<string, MetricData>();
  for (const scope of last?.scopeMetrics ?? []) for (const m of scope.metrics) out.set(m.descriptor.name, m);
  return out;
}

const points = (m: MetricData | undefined): DataPoint<number>[] => (m?.dataPoints ?? []) as DataPoint<number>[];
const sum = (m: MetricData | undefined, attrs: Record<string, unknown> = {}): number =>
  points(m)
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((a, p) => a + p.value, 0);
const histCount = (m: MetricData | undefined, attrs: Record<string, unknown> = {}): number => {
  expect(m?.dataPointType).toBe(DataPointType.HISTOGRAM);
  return ((m?.dataPoints ?? []) as DataPoint<Histogram>[])
    .filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v))
    .reduce((a, p) => a + p.value.count, 0);
};

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.reverse()) await f();
  cleanup = [];
});

async function emulators(): Promise<{ cursor: ScriptCursor; rtzr: RtzrEmulator; google: GoogleEmulator }> {
  const cursor = new ScriptCursor(script);
  const rtzr = await startRtzrEmulator({ script: cursor });
  const google = await startGoogleEmulator({ script: cursor });
  cleanup.push(() => rtzr.close(), () => google.close());
  return { cursor, rtzr, google };
}

describe('OpenTelemetry: a call that reconnects and falls back (RTZR emulator → Google emulator)', () => {
  for (const pace of ['8x', 'as fast as possible'] as const) {
    it(`spans with parent/child links and attributes, and the metrics (${pace})`, async () => {
      const s = sdk();
      cleanup.push(() => s.meterProvider.shutdown(), () => s.tracerProvider.shutdown());
      const { rtzr, google } = await emulators();
      const recognizer = new StreamingRecognizer({
        providers: [
          new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials }),
          new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 }),
        ],
        reconnect: { retries: 3, minDelayMs: 10, maxDelayMs: 50 },
        telemetry: { tracerProvider: s.tracerProvider, meterProvider: s.meterProvider },
      });
      cleanup.push(() => recognizer.close());

      // The connection drops inside utterance 1; every reconnect is refused; Google takes over.
      rtzr.faults.dropAfterAudioMs(4400);
      const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: 2000 });
      stream.once('open', () => rtzr.faults.refuseConnections(10));
      if (pace === '8x') await playCall(stream, 8);
      else await writeCall(stream);
      const summary: StreamSummary = await stream.end();
      expect(summary.error).toBeUndefined();
      expect(summary.transcripts.map((t) => t.text)).toEqual(script);
      expect(summary.providers).toEqual(['rtzr', 'google']);
      expect(summary.reconnects).toBe(3);

      // ── spans ──
      const spans = s.spans.getFinishedSpans();
      const streamSpans = spans.filter((x) => x.name === 'stt.stream');
      expect(streamSpans).toHaveLength(1);
      const root = streamSpans[0]!;
      expect(root.kind).toBe(SpanKind.INTERNAL);
      expect(parentOf(root)).toBeUndefined();
      expect(root.status.code).toBe(SpanStatusCode.UNSET);
      expect(root.attributes).toMatchObject({
        'stt.stream.id': 1,
        'stt.provider': 'rtzr',
        'stt.providers': ['rtzr', 'google'],
        'stt.language': 'ko-KR',
        'stt.audio.encoding': 'mulaw',
        'stt.audio.sample_rate': 8000,
        'stt.utterances': 4,
        'stt.reconnects': 3,
        'stt.fallbacks': 1,
      });
      expect(root.attributes['stt.audio.duration']).toBeCloseTo(summary.audioMs / 1000, 3);
      expect(root.attributes['error.type']).toBeUndefined();
      expect(root.events.filter((e) => e.name === 'stt.reconnect').map((e) => e.attributes?.['error.type'])).toEqual([
        'CONNECTION_LOST',
        'CONNECTION_FAILED',
        'CONNECTION_FAILED',
      ]);
      // every span of the call is in the stream's trace
      for (const x of spans) expect(x.spanContext().traceId).toBe(root.spanContext().traceId);

      const rootId = root.spanContext().spanId;
      const tokens = spans.filter((x) => x.name === 'stt.token');
      expect(tokens).toHaveLength(1);
      expect(parentOf(tokens[0]!)).toBe(rootId);
      expect(tokens[0]!.kind).toBe(SpanKind.CLIENT);
      expect(tokens[0]!.attributes['stt.provider']).toBe('rtzr');

      const connects = spans.filter((x) => x.name === 'stt.connect');
      // the first handshake, then three refused reconnects, all under the stream span
      expect(connects.map((c) => [c.attributes['stt.provider'], c.status.code, c.attributes['error.type']])).toEqual([
        ['rtzr', SpanStatusCode.UNSET, undefined],
        ['rtzr', SpanStatusCode.ERROR, 'CONNECTION_FAILED'],
        ['rtzr', SpanStatusCode.ERROR, 'CONNECTION_FAILED'],
        ['rtzr', SpanStatusCode.ERROR, 'CONNECTION_FAILED'],
      ]);
      for (const c of connects) {
        expect(parentOf(c)).toBe(rootId);
        expect(c.attributes).toMatchObject({ 'stt.connection.prewarmed': false, 'stt.audio.sample_rate': 8000 });
      }

      const fallbacks = spans.filter((x) => x.name === 'stt.fallback');
      expect(fallbacks).toHaveLength(1);
      const fb = fallbacks[0]!;
      expect(parentOf(fb)).toBe(rootId);
      expect(fb.status.code).toBe(SpanStatusCode.UNSET); // Google opened
      expect(fb.attributes).toMatchObject({ 'stt.fallback.from': 'rtzr', 'stt.fallback.to': 'google', 'stt.fallback.reason': 'CONNECTION_FAILED' });
      expect(fb.attributes['stt.fallback.replayed_duration']).toBeGreaterThan(0);
      // children lie inside their parent, in time
      const t = (h: [number, number]) => h[0] * 1e3 + h[1] / 1e6;
      for (const c of [...tokens, ...connects, fb]) {
        expect(t(c.startTime)).toBeGreaterThanOrEqual(t(root.startTime) - 1);
        expect(t(c.endTime)).toBeLessThanOrEqual(t(root.endTime) + 1);
      }
      expect(t(fb.startTime)).toBeGreaterThanOrEqual(t(connects[3]!.endTime) - 1);

      // ── metrics ──
      const m = await collect(s);
      expect(sum(m.get('stt.streams'))).toBe(1);
      expect(sum(m.get('stt.streams'), { 'stt.provider': 'rtzr' })).toBe(1);
      const finals = m.get('stt.final.latency');
      expect(finals?.descriptor.unit).toBe('s');
      expect(histCount(finals)).toBe(4);
      expect(histCount(finals, { 'stt.provider': 'google' })).toBeGreaterThanOrEqual(2); // utterances 1–3 at least
      expect(histCount(m.get('stt.first_partial.latency'))).toBeGreaterThanOrEqual(1);
      expect(histCount(m.get('stt.token.duration'), { 'stt.provider': 'rtzr' })).toBe(1);
      expect(histCount(m.get('stt.connect.duration'), { 'stt.connection.pool': false })).toBe(4);
      expect(histCount(m.get('stt.connect.duration'), { 'error.type': 'CONNECTION_FAILED' })).toBe(3);
      expect(sum(m.get('stt.reconnects'))).toBe(3);
      expect(sum(m.get('stt.reconnects'), { 'error.type': 'CONNECTION_LOST' })).toBe(1);
      expect(sum(m.get('stt.fallbacks'), { 'stt.fallback.from': 'rtzr', 'stt.fallback.to': 'google' })).toBe(1);
      expect(sum(m.get('stt.errors'), { 'stt.operation': 'connect', 'error.type': 'CONNECTION_FAILED' })).toBe(3);
      expect(sum(m.get('stt.errors'), { 'stt.operation': 'stream' })).toBe(0);
      // every connection that opened was counted down again when it closed
      expect(m.get('stt.open_connections')).toMatchObject({ dataPointType: DataPointType.SUM, isMonotonic: false });
      expect(sum(m.get('stt.open_connections'), { 'stt.provider': 'rtzr' })).toBe(0);
      expect(sum(m.get('stt.open_connections'), { 'stt.provider': 'google' })).toBe(0);
    });
  }

  it('open connections are counted while the stream is open; a failed stream records its error code', async () => {
    const s = sdk();
    cleanup.push(() => s.meterProvider.shutdown(), () => s.tracerProvider.shutdown());
    const { rtzr } = await emulators();
    const recognizer = new StreamingRecognizer({
      providers: [new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials })],
      reconnect: false,
      telemetry: { tracerProvider: s.tracerProvider, meterProvider: s.meterProvider },
    });
    cleanup.push(() => recognizer.close());
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await new Promise((r) => stream.once('open', r));
    expect(sum((await collect(s)).get('stt.open_connections'), { 'stt.provider': 'rtzr' })).toBe(1);
    rtzr.faults.dropAll(); // no reconnect, no fallback: the stream fails
    const summary = await new Promise<StreamSummary>((r) => stream.once('close', r));
    expect(summary.error?.code).toBe('CONNECTION_LOST');
    const m = await collect(s);
    expect(sum(m.get('stt.open_connections'), { 'stt.provider': 'rtzr' })).toBe(0);
    expect(sum(m.get('stt.errors'), { 'stt.operation': 'stream', 'error.type': 'CONNECTION_LOST', 'stt.provider': 'rtzr' })).toBe(1);
    const root = s.spans.getFinishedSpans().find((x) => x.name === 'stt.stream')!;
    expect(root.status).toMatchObject({ code: SpanStatusCode.ERROR });
    expect(root.attributes['error.type']).toBe('CONNECTION_LOST');
  });
});

/** A synchronous stack context manager (OpenTelemetry's ContextManager interface), enough for `context.with()`. */
class StackContextManager implements ContextManager {
  private stack: Context[] = [];
  active(): Context {
    return this.stack[this.stack.length - 1] ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(ctx: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    this.stack.push(ctx);
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.stack.pop();
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.stack = [];
    return this;
  }
}

describe('OpenTelemetry: enabling', () => {
  it('telemetry: true records to the global providers, under the caller’s active span; warm-up work is traced too', async () => {
    const s = sdk();
    trace.setGlobalTracerProvider(s.tracerProvider);
    metrics.setGlobalMeterProvider(s.meterProvider);
    context.setGlobalContextManager(new StackContextManager());
    cleanup.push(async () => {
      trace.disable();
      metrics.disable();
      context.disable();
      await s.meterProvider.shutdown();
      await s.tracerProvider.shutdown();
    });
    const { rtzr } = await emulators();
    const recognizer = new StreamingRecognizer({ providers: [new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials, prewarm: 1 })], telemetry: true });
    cleanup.push(() => recognizer.close());
    await recognizer.warmup(); // token + one pre-warmed socket, outside any stream

    const call = trace.getTracer('app').startSpan('handle call');
    const stream = context.with(trace.setSpan(context.active(), call), () =>
      recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } }),
    );
    await writeCall(stream);
    const summary = await stream.end();
    call.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);

    const spans = s.spans.getFinishedSpans();
    const root = spans.find((x) => x.name === 'stt.stream')!;
    expect(parentOf(root)).toBe(call.spanContext().spanId);
    // warm-up's token request: a span of its own (no stream); the pre-warmed socket handed to the stream: a zero-length connect span
    const token = spans.find((x) => x.name === 'stt.token')!;
    expect(token.spanContext().traceId).not.toBe(root.spanContext().traceId);
    const connects = spans.filter((x) => x.name === 'stt.connect');
    expect(connects).toHaveLength(1); // pool handshakes are metrics only
    expect(parentOf(connects[0]!)).toBe(root.spanContext().spanId);
    expect(connects[0]!.attributes['stt.connection.prewarmed']).toBe(true);
    const m = await collect(s);
    expect(histCount(m.get('stt.connect.duration'), { 'stt.connection.pool': true })).toBeGreaterThanOrEqual(1);
    expect(histCount(m.get('stt.final.latency'), { 'stt.provider': 'rtzr' })).toBe(4);
  });

  it('off by default: nothing subscribes to the diagnostics channels; on: subscribed until close()', async () => {
    const { rtzr } = await emulators();
    const token = diagnosticsChannel.channel(diagnosticsChannels.token);
    const connect = diagnosticsChannel.channel(diagnosticsChannels.connect);
    const provider = () => new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials });
    const off = new StreamingRecognizer({ providers: [provider()] });
    const disabled = new StreamingRecognizer({ providers: [provider()], telemetry: { traces: false, metrics: false } });
    expect(token.hasSubscribers).toBe(false);
    expect(connect.hasSubscribers).toBe(false);
    await off.close();
    await disabled.close();
    const s = sdk();
    cleanup.push(() => s.meterProvider.shutdown());
    const on = new StreamingRecognizer({ providers: [provider()], telemetry: { meterProvider: s.meterProvider, traces: false } });
    expect(token.hasSubscribers).toBe(true);
    expect(connect.hasSubscribers).toBe(true);
    await on.close();
    expect(token.hasSubscribers).toBe(false);
    expect(connect.hasSubscribers).toBe(false);
  });

  it('rejects a telemetry option of the wrong shape with ConfigurationError', async () => {
    const { rtzr } = await emulators();
    const providers = [new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials })];
    expect(() => new StreamingRecognizer({ providers, telemetry: 'yes' as unknown as boolean })).toThrow(ConfigurationError);
    expect(() => new StreamingRecognizer({ providers, telemetry: { tracerProvider: {} as never } })).toThrow(/getTracer/);
    expect(() => new StreamingRecognizer({ providers, telemetry: { meterProvider: {} as never } })).toThrow(/getMeter/);
  });

  it('without @opentelemetry/api installed, telemetry: true logs one warning and the call works', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const program = `
      import { RtzrProvider, StreamingRecognizer, readWav } from './src/index.ts';
      import { startRtzrEmulator } from './src/testing/index.ts';
      import { readFileSync } from 'node:fs';
      const emu = await startRtzrEmulator({ script: ['a', 'b', 'c', 'd'] });
      const warnings = [];
      const logger = { debug() {}, info() {}, error() {}, warn: (m) => warnings.push(m) };
      const recognizer = new StreamingRecognizer({ providers: [new RtzrProvider({ apiBase: emu.apiBase, ...emu.credentials })], telemetry: true, logger });
      const summary = await recognizer.recognize(readFileSync('examples/audio/call-ko-8k-mulaw.wav'));
      await recognizer.close();
      await emu.close();
      console.log(JSON.stringify({ warnings, finals: summary.transcripts.length }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', './test/fixtures/hide-otel-api.mjs', '--import', 'tsx', '--input-type=module', '-e', program],
      { cwd: root, timeout: 60_000 },
    );
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { warnings: string[]; finals: number };
    expect(out.finals).toBe(4);
    expect(out.warnings).toEqual(['telemetry is off: @opentelemetry/api is not installed (npm install @opentelemetry/api)']);
  });
});
