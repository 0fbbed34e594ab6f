/**
 * OpenTelemetry names recorded by the library (semantic-convention style:
 * lowercase dotted namespaces, durations in seconds with unit `s`, plural
 * counters with `{unit}` annotations). Stable: dashboards depend on them.
 * Documented in docs/metrics.md ("OpenTelemetry").
 * @module
 */

/** Instrumentation scope name (tracer and meter). */
export const SCOPE = 'streaming-stt';

/** Span names. */
export const SPANS = Object.freeze({
  /** One per stream, from `recognizer.stream()` to its `close` event. Kind INTERNAL. */
  stream: 'stt.stream',
  /** An access-token request made for the stream. Kind CLIENT. */
  token: 'stt.token',
  /** A provider connection: a WebSocket handshake, or a pre-warmed socket handed over (zero length). Kind CLIENT. */
  connect: 'stt.connect',
  /** A fallback, from the switch until the next provider's connection is open. Kind INTERNAL. */
  fallback: 'stt.fallback',
});

/** Metric instrument names. */
export const METRICS = Object.freeze({
  /** Histogram, s: writing the audio at a final's end → the final (`UtteranceMetrics.finalLatencyMs`). */
  finalLatency: 'stt.final.latency',
  /** Histogram, s: writing the audio at an utterance's start → its first partial (`firstPartialMs`). */
  firstPartialLatency: 'stt.first_partial.latency',
  /** Histogram, s: WebSocket handshake time (for streams and for the pre-warm pool). */
  connectDuration: 'stt.connect.duration',
  /** Histogram, s: access-token request time (cache hits are not requests). */
  tokenDuration: 'stt.token.duration',
  /** Counter, `{stream}`: streams created. */
  streams: 'stt.streams',
  /** Counter, `{reconnect}`: reconnects to the same provider. */
  reconnects: 'stt.reconnects',
  /** Counter, `{fallback}`: switches to the next provider. */
  fallbacks: 'stt.fallbacks',
  /** Counter, `{error}`: failures by `error.type` (the `SttError` code) and `stt.operation`. */
  errors: 'stt.errors',
  /** UpDownCounter, `{connection}`: provider connections open and serving a stream now. */
  openConnections: 'stt.open_connections',
});

/** Attribute names. */
export const ATTR = Object.freeze({
  /** Provider id (`rtzr`, `google`, …): the one serving now, or that the event is about. */
  provider: 'stt.provider',
  /** Every provider that served the stream, in order (string array). */
  providers: 'stt.providers',
  /** Recognizer-local stream id (1, 2, 3…), as in diagnostics_channel messages. */
  streamId: 'stt.stream.id',
  /** BCP-47 language of the stream. */
  language: 'stt.language',
  /** Encoding of the audio: the caller's (stream span) or the wire's (connect span). */
  encoding: 'stt.audio.encoding',
  /** Sample rate, Hz: the caller's (stream span) or the wire's (connect span). */
  sampleRate: 'stt.audio.sample_rate',
  /** Audio written to the stream, s (double). */
  audioDuration: 'stt.audio.duration',
  /** Finals delivered by the stream. */
  utterances: 'stt.utterances',
  /** Reconnects of the stream. */
  reconnects: 'stt.reconnects',
  /** Fallbacks of the stream. */
  fallbacks: 'stt.fallbacks',
  /** Fallback: the provider left. */
  fallbackFrom: 'stt.fallback.from',
  /** Fallback: the provider switched to. */
  fallbackTo: 'stt.fallback.to',
  /** Fallback: the `SttError` code that caused it. */
  fallbackReason: 'stt.fallback.reason',
  /** Fallback: audio replayed into the next provider, s (double). */
  replayedDuration: 'stt.fallback.replayed_duration',
  /** Connect: 1, or 2 for the retry after a 401 forced a token refresh. */
  connectAttempt: 'stt.connect.attempt',
  /** Connect: the connection was opened ahead of demand (pre-warmed). */
  prewarmed: 'stt.connection.prewarmed',
  /** Connect metric: the handshake filled the pre-warm pool rather than serving a waiting stream. */
  pool: 'stt.connection.pool',
  /** Which operation an `stt.errors` count is about: `stream` (fatal), `token` or `connect`. */
  operation: 'stt.operation',
  /** OpenTelemetry's general attribute: the `SttError` code of a failure. */
  errorType: 'error.type',
});

/** Bucket boundaries of the latency histograms, s (OpenTelemetry's HTTP duration defaults). */
export const LATENCY_BUCKETS_S = Object.freeze([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]);
