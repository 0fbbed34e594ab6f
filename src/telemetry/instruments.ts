/**
 * The metric instruments of one recognizer's telemetry, created once from its
 * meter (see `names.ts` for names, units and meaning).
 * @module
 * @internal
 */
import type { Counter, Histogram, Meter, UpDownCounter } from '@opentelemetry/api';
import { LATENCY_BUCKETS_S, METRICS } from './names.js';

/** @internal */
export interface Instruments {
  finalLatency: Histogram;
  firstPartialLatency: Histogram;
  connectDuration: Histogram;
  tokenDuration: Histogram;
  streams: Counter;
  reconnects: Counter;
  fallbacks: Counter;
  errors: Counter;
  openConnections: UpDownCounter;
}

/** @internal */
export function createInstruments(meter: Meter): Instruments {
  const seconds = (name: string, description: string): Histogram =>
    meter.createHistogram(name, { description, unit: 's', advice: { explicitBucketBoundaries: [...LATENCY_BUCKETS_S] } });
  return {
    finalLatency: seconds(METRICS.finalLatency, 'Time from writing the audio at the end of an utterance to its final transcript.'),
    firstPartialLatency: seconds(
      METRICS.firstPartialLatency,
      'Time from writing the audio at the start of an utterance to its first partial transcript.',
    ),
    connectDuration: seconds(METRICS.connectDuration, 'WebSocket handshake time of a provider connection.'),
    tokenDuration: seconds(METRICS.tokenDuration, 'Access-token request time.'),
    streams: meter.createCounter(METRICS.streams, { description: 'Recognition streams created.', unit: '{stream}' }),
    reconnects: meter.createCounter(METRICS.reconnects, { description: 'Reconnects to the same provider.', unit: '{reconnect}' }),
    fallbacks: meter.createCounter(METRICS.fallbacks, { description: 'Switches of a stream to the next provider.', unit: '{fallback}' }),
    errors: meter.createCounter(METRICS.errors, { description: 'Failed streams, token requests and handshakes, by error code.', unit: '{error}' }),
    openConnections: meter.createUpDownCounter(METRICS.openConnections, {
      description: 'Provider connections open and serving a stream.',
      unit: '{connection}',
    }),
  };
}
