/**
 * The telemetry of one stream: its `stt.stream` span, the `stt.fallback`
 * child spans, and the metrics fed by its events (`open`, `metrics`,
 * `reconnect`, `fallback`, `error`, `close`). Listens to the stream's public
 * events only; nothing runs on the audio path.
 * @module
 * @internal
 */
import type { Attributes, Context, Span } from '@opentelemetry/api';
import type { RecognitionStream } from '../stream/recognition-stream.js';
import type { StreamOptions } from '../stream/types.js';
import type { Instruments } from './instruments.js';
import { ATTR, SPANS } from './names.js';
import type { OtelApi } from './otel-api.js';

/** What the token and connect subscribers need to parent their spans. @internal */
export interface StreamTrace {
  /** Parent context of the stream's child spans: the open fallback span's, else the stream span's. */
  parent(): Context | undefined;
  /** The stream has closed (its span has ended). */
  readonly closed: boolean;
}

/** What the recognizer knows about a stream it is about to create. @internal */
export interface StreamInfo {
  /** Recognizer-local stream id (1, 2, 3…). */
  streamId: number;
  options: StreamOptions;
  /** The stream's BCP-47 language. */
  language: string;
  /** Id of the provider the stream starts on (the first in rotation). */
  provider: string | undefined;
}

/** Wall-clock now, ms since the epoch, sub-millisecond (what OpenTelemetry's `TimeInput` takes as a number). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * One stream's span, fallback spans and event-fed metrics. Created just before the stream (so its
 * span is the parent of what the stream's creation causes), then {@link StreamTelemetry.observe}d.
 * @internal
 */
export class StreamTelemetry implements StreamTrace {
  closed = false;
  private readonly span: Span | undefined;
  private readonly ctx: Context | undefined;
  private fallbackSpan: Span | undefined;
  private fallbackCtx: Context | undefined;
  /** Provider whose connection is counted in `stt.open_connections` now. */
  private connected: string | undefined;
  private utterances = 0;

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: import('@opentelemetry/api').Tracer | undefined,
    private readonly m: Instruments | undefined,
    private readonly info: StreamInfo,
  ) {
    if (tracer) {
      const audio = info.options.audio;
      this.span = tracer.startSpan(SPANS.stream, {
        kind: api.SpanKind.INTERNAL,
        attributes: {
          [ATTR.streamId]: info.streamId,
          [ATTR.language]: info.language,
          [ATTR.encoding]: audio?.encoding ?? 'linear16',
          [ATTR.sampleRate]: audio?.sampleRate ?? 16000,
          ...(info.provider ? { [ATTR.provider]: info.provider } : {}),
        },
      });
      this.ctx = api.trace.setSpan(api.context.active(), this.span);
    }
  }

  parent(): Context | undefined {
    return this.fallbackCtx ?? this.ctx;
  }

  /** Subscribe to the stream (right after it was created, before it can emit). */
  observe(stream: RecognitionStream): void {
    const { api, m } = this;
    m?.streams.add(1, this.info.provider ? { [ATTR.provider]: this.info.provider } : {});
    stream.on('open', ({ provider }) => {
      if (!this.connected) m?.openConnections.add(1, { [ATTR.provider]: provider });
      else if (this.connected !== provider) {
        m?.openConnections.add(-1, { [ATTR.provider]: this.connected });
        m?.openConnections.add(1, { [ATTR.provider]: provider });
      }
      this.connected = provider;
      this.endFallback();
    });
    stream.on('metrics', (u) => {
      this.utterances++;
      const attrs = { [ATTR.provider]: u.provider };
      m?.finalLatency.record(u.finalLatencyMs / 1000, attrs);
      if (u.firstPartialMs !== undefined) m?.firstPartialLatency.record(u.firstPartialMs / 1000, attrs);
    });
    stream.on('reconnect', (ev) => {
      this.disconnected();
      m?.reconnects.add(1, { [ATTR.provider]: ev.provider, [ATTR.errorType]: ev.reason.code });
      this.span?.addEvent('stt.reconnect', {
        [ATTR.provider]: ev.provider,
        [ATTR.errorType]: ev.reason.code,
        'stt.reconnect.attempt': ev.attempt,
        'stt.reconnect.delay': ev.delayMs / 1000,
      });
    });
    stream.on('fallback', (ev) => {
      this.disconnected();
      m?.fallbacks.add(1, { [ATTR.fallbackFrom]: ev.from, [ATTR.fallbackTo]: ev.to, [ATTR.errorType]: ev.reason.code });
      // A second fallback before the first one's provider opened: the first one failed.
      this.endFallback(ev.reason.code);
      if (this.tracer && this.ctx) {
        const attributes: Attributes = {
          [ATTR.fallbackFrom]: ev.from,
          [ATTR.fallbackTo]: ev.to,
          [ATTR.fallbackReason]: ev.reason.code,
          [ATTR.replayedDuration]: ev.replayedMs / 1000,
        };
        this.fallbackSpan = this.tracer.startSpan(SPANS.fallback, { kind: api.SpanKind.INTERNAL, attributes }, this.ctx);
        this.fallbackCtx = api.trace.setSpan(this.ctx, this.fallbackSpan);
      }
    });
    stream.on('error', (err) => {
      const provider = err.provider ?? this.connected ?? this.info.provider;
      m?.errors.add(1, { [ATTR.errorType]: err.code, [ATTR.operation]: 'stream', ...(provider ? { [ATTR.provider]: provider } : {}) });
    });
    stream.once('close', (summary) => {
      this.disconnected();
      this.endFallback(summary.error?.code);
      this.closed = true;
      const span = this.span;
      if (!span) return;
      span.setAttributes({
        [ATTR.providers]: summary.providers,
        [ATTR.audioDuration]: summary.audioMs / 1000,
        [ATTR.utterances]: this.utterances,
        [ATTR.reconnects]: summary.reconnects,
        [ATTR.fallbacks]: summary.fallbacks,
      });
      if (summary.error) {
        span.setAttribute(ATTR.errorType, summary.error.code);
        // An abort is the caller's decision, not a failure of the stream.
        if (summary.error.code !== 'ABORTED') span.setStatus({ code: api.SpanStatusCode.ERROR, message: summary.error.message });
      }
      span.end();
    });
  }

  private disconnected(): void {
    if (this.connected) this.m?.openConnections.add(-1, { [ATTR.provider]: this.connected });
    this.connected = undefined;
  }

  /** End the open fallback span: ok when the next provider opened, else with the code that ended it. */
  private endFallback(errorCode?: string): void {
    const span = this.fallbackSpan;
    if (!span) return;
    if (errorCode) {
      span.setAttribute(ATTR.errorType, errorCode);
      span.setStatus({ code: this.api.SpanStatusCode.ERROR });
    }
    span.end();
    this.fallbackSpan = undefined;
    this.fallbackCtx = undefined;
  }
}
