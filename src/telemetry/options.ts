/**
 * Public shape of the recognizer's `telemetry` option (OpenTelemetry).
 *
 * The types here are structural on purpose: the package does not require
 * `@opentelemetry/api` (an optional peer dependency), so its public types must
 * not import it. Any OpenTelemetry SDK `TracerProvider` / `MeterProvider` fits.
 * @module
 */

/** Anything with OpenTelemetry's `TracerProvider.getTracer()` (an SDK `TracerProvider`, `trace.getTracerProvider()`). */
export interface TelemetryTracerProvider {
  /** Returns the tracer of an instrumentation scope; the library asks for `'streaming-stt'` and its version. */
  getTracer(name: string, version?: string): unknown;
}

/** Anything with OpenTelemetry's `MeterProvider.getMeter()` (an SDK `MeterProvider`, `metrics.getMeterProvider()`). */
export interface TelemetryMeterProvider {
  /** Returns the meter of an instrumentation scope; the library asks for `'streaming-stt'` and its version. */
  getMeter(name: string, version?: string): unknown;
}

/**
 * What `StreamingRecognizer({ telemetry })` records with OpenTelemetry: a span per stream (with
 * child spans for token requests, WebSocket handshakes and each fallback) and the metrics of
 * docs/metrics.md ("OpenTelemetry"). Needs the optional peer dependency `@opentelemetry/api`
 * (`npm install @opentelemetry/api`); without it, telemetry stays off and the recognizer logs one
 * warning. Nothing is recorded, loaded or subscribed when the option is absent.
 */
export interface TelemetryOptions {
  /** Where spans go. Default: the global provider (`trace.getTracerProvider()`), a no-op until an SDK registers one. */
  tracerProvider?: TelemetryTracerProvider;
  /** Where metrics go. Default: the global provider (`metrics.getMeterProvider()`), a no-op until an SDK registers one. */
  meterProvider?: TelemetryMeterProvider;
  /** Record spans. Default true. */
  traces?: boolean;
  /** Record metrics. Default true. */
  metrics?: boolean;
}
