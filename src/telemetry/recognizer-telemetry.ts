/**
 * OpenTelemetry for one recognizer, created only when its `telemetry` option
 * is set (otherwise nothing here is loaded, subscribed or allocated).
 *
 * - Each stream gets a {@link StreamTelemetry} (its span and event-fed metrics).
 * - Token requests and handshakes come from the `streaming-stt:token` and
 *   `streaming-stt:connect` diagnostics channels. Those messages carry no
 *   stream, so the recognizer creates each stream (and runs `warmup()`) inside
 *   an `AsyncLocalStorage` context: a provider publishes from the async chain
 *   its stream (or warm-up) started, so the subscriber finds the stream whose
 *   span is the parent, and ignores work of recognizers without telemetry.
 * @module
 * @internal
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import diagnosticsChannel from 'node:diagnostics_channel';
import { diagnosticsChannels, type ConnectDiagnostic, type TokenDiagnostic } from '../diagnostics.js';
import { ConfigurationError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { RecognitionStream } from '../stream/recognition-stream.js';
import { VERSION } from '../version.js';
import { createInstruments, type Instruments } from './instruments.js';
import { ATTR, SCOPE, SPANS } from './names.js';
import type { TelemetryOptions } from './options.js';
import { loadOtelApi, type OtelApi } from './otel-api.js';
import { nowMs, StreamTelemetry, type StreamInfo, type StreamTrace } from './stream-telemetry.js';

/** Async-context store: the stream a provider is working for, or `null` for `warmup()`. */
type Store = StreamTrace | null;

/** @internal */
export class RecognizerTelemetry {
  private readonly tracer: import('@opentelemetry/api').Tracer | undefined;
  private readonly m: Instruments | undefined;
  private readonly als = new AsyncLocalStorage<Store>();
  private readonly onToken = (msg: unknown): void => this.token(msg as TokenDiagnostic);
  private readonly onConnect = (msg: unknown): void => this.connect(msg as ConnectDiagnostic);
  private closed = false;

  /**
   * `undefined` when the option is off, or (after one warning) when `@opentelemetry/api` is
   * missing.
   * @throws {@link ConfigurationError} for an option that is neither a boolean nor an options
   * object, or providers without `getTracer()` / `getMeter()`.
   */
  static create(option: boolean | TelemetryOptions | undefined, logger: Logger): RecognizerTelemetry | undefined {
    if (option === undefined || option === false) return undefined;
    const opts = option === true ? {} : option;
    if (typeof opts !== 'object' || opts === null) {
      throw new ConfigurationError(`telemetry must be true, false or { tracerProvider?, meterProvider? }, got ${typeof option}`);
    }
    if (opts.tracerProvider !== undefined && typeof opts.tracerProvider?.getTracer !== 'function') {
      throw new ConfigurationError('telemetry.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer())');
    }
    if (opts.meterProvider !== undefined && typeof opts.meterProvider?.getMeter !== 'function') {
      throw new ConfigurationError('telemetry.meterProvider must be an OpenTelemetry MeterProvider (with getMeter())');
    }
    if (opts.traces === false && opts.metrics === false) return undefined;
    const load = loadOtelApi();
    if (!load.api) {
      logger.warn(`telemetry is off: ${load.reason}`);
      return undefined;
    }
    return new RecognizerTelemetry(load.api, opts);
  }

  private constructor(
    private readonly api: OtelApi,
    opts: TelemetryOptions,
  ) {
    if (opts.traces !== false) {
      const provider = (opts.tracerProvider ?? api.trace.getTracerProvider()) as import('@opentelemetry/api').TracerProvider;
      this.tracer = provider.getTracer(SCOPE, VERSION);
    }
    if (opts.metrics !== false) {
      const provider = (opts.meterProvider ?? api.metrics.getMeterProvider()) as import('@opentelemetry/api').MeterProvider;
      this.m = createInstruments(provider.getMeter(SCOPE, VERSION));
    }
    diagnosticsChannel.subscribe(diagnosticsChannels.token, this.onToken);
    diagnosticsChannel.subscribe(diagnosticsChannels.connect, this.onConnect);
  }

  /**
   * Create a stream with `create` inside its telemetry context (so the token requests and
   * handshakes it causes find its span), then observe its events.
   */
  stream(info: StreamInfo, create: () => RecognitionStream): RecognitionStream {
    const t = new StreamTelemetry(this.api, this.tracer, this.m, info);
    const stream = this.als.run(t, create);
    t.observe(stream);
    return stream;
  }

  /** Run `fn` (the recognizer's `warmup()`) so that its token requests and handshakes are recorded. */
  run<T>(fn: () => T): T {
    return this.als.run(null, fn);
  }

  /** Unsubscribe (the recognizer's `close()`). Spans of streams still open end with their `close`. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    diagnosticsChannel.unsubscribe(diagnosticsChannels.token, this.onToken);
    diagnosticsChannel.unsubscribe(diagnosticsChannels.connect, this.onConnect);
  }

  /** The stream (or warm-up, `null`) the current async chain works for; `undefined`: not this recognizer's. */
  private owner(): Store | undefined {
    return this.als.getStore();
  }

  private token(msg: TokenDiagnostic): void {
    const owner = this.owner();
    if (owner === undefined) return;
    const attributes = { [ATTR.provider]: msg.provider, ...(msg.ok ? {} : { [ATTR.errorType]: msg.error?.code ?? 'UNKNOWN' }) };
    this.m?.tokenDuration.record(msg.durationMs / 1000, attributes);
    if (!msg.ok) this.m?.errors.add(1, { ...attributes, [ATTR.operation]: 'token' });
    this.childSpan(SPANS.token, owner, msg.durationMs, attributes, msg.ok ? undefined : msg.error?.message);
  }

  private connect(msg: ConnectDiagnostic): void {
    const owner = this.owner();
    if (owner === undefined) return;
    const attributes = {
      [ATTR.provider]: msg.provider,
      ...(msg.ok ? {} : { [ATTR.errorType]: msg.error?.code ?? 'UNKNOWN' }),
    };
    if (msg.kind === 'handshake') {
      this.m?.connectDuration.record(msg.durationMs / 1000, { ...attributes, [ATTR.pool]: msg.forPool });
      if (!msg.ok) this.m?.errors.add(1, { ...attributes, [ATTR.operation]: 'connect' });
    }
    // Handshakes for the pre-warm pool serve no stream yet: metrics only.
    if (msg.forPool) return;
    this.childSpan(
      SPANS.connect,
      owner,
      msg.durationMs,
      {
        ...attributes,
        [ATTR.prewarmed]: msg.kind === 'prewarmed',
        [ATTR.connectAttempt]: msg.attempt,
        [ATTR.encoding]: msg.encoding,
        [ATTR.sampleRate]: msg.sampleRate,
      },
      msg.ok ? undefined : msg.error?.message,
    );
  }

  /**
   * A CLIENT span that just finished after `durationMs`, under the stream's span (or its open
   * fallback span). Work for a closed stream (a health probe, a late pool refill) or for
   * `warmup()` gets a span under the caller's active context instead.
   */
  private childSpan(name: string, owner: Store, durationMs: number, attributes: import('@opentelemetry/api').Attributes, error?: string): void {
    if (!this.tracer) return;
    const api = this.api;
    const end = nowMs();
    const parent = (owner && !owner.closed ? owner.parent() : undefined) ?? api.context.active();
    const span = this.tracer.startSpan(name, { kind: api.SpanKind.CLIENT, startTime: end - durationMs, attributes }, parent);
    if (error !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: error });
    span.end(end);
  }
}
