/**
 * What the recognizer watches on each of its streams: `metrics`, `reconnect`,
 * `fallback` and `close` feed the aggregate of `recognizer.metrics()`;
 * `reconnect` and `fallback` are also published on `node:diagnostics_channel`
 * (only when someone subscribes) and logged at debug level.
 * @module
 * @internal
 */
import { channels, diagnosticError } from '../diagnostics.js';
import type { Logger } from '../logger.js';
import type { RecognitionStream } from '../stream/recognition-stream.js';
import type { MetricsAggregator } from './metrics-aggregator.js';

/** @internal */
export interface ObserveContext {
  /** Recognizer-local stream id (1, 2, 3…), used in diagnostics and logs. */
  streamId: number;
  aggregator: MetricsAggregator;
  logger: Logger;
}

/** Subscribe to a new stream's events. Call right after creating it (before it can emit). @internal */
export function observeStream(stream: RecognitionStream, ctx: ObserveContext): void {
  const { streamId, aggregator, logger } = ctx;
  aggregator.streamStarted();
  stream.on('metrics', (m) => {
    aggregator.utterance(m);
    logger.debug('utterance metrics', { streamId, ...m });
  });
  stream.on('reconnect', (ev) => {
    aggregator.reconnect(ev);
    logger.debug('stream reconnecting', {
      streamId,
      provider: ev.provider,
      attempt: ev.attempt,
      delayMs: ev.delayMs,
      code: ev.reason.code,
    });
    if (channels.reconnect.hasSubscribers) {
      channels.reconnect.publish({
        streamId,
        provider: ev.provider,
        attempt: ev.attempt,
        delayMs: ev.delayMs,
        reason: diagnosticError(ev.reason),
      });
    }
  });
  stream.on('fallback', (ev) => {
    aggregator.fallback(ev);
    logger.debug('stream falling back to the next provider', {
      streamId,
      from: ev.from,
      to: ev.to,
      replayedMs: ev.replayedMs,
      code: ev.reason.code,
    });
    if (channels.fallback.hasSubscribers) {
      channels.fallback.publish({
        streamId,
        from: ev.from,
        to: ev.to,
        replayedMs: ev.replayedMs,
        reason: diagnosticError(ev.reason),
      });
    }
  });
  stream.once('close', (summary) => aggregator.streamClosed(summary));
}
