/**
 * The per-recognizer aggregate behind `recognizer.metrics()`: counts of
 * streams, utterances, reconnects and fallbacks, and p50/p95/p99 of final
 * latency and connection costs, readable at any time. Memory is bounded: a
 * fixed-size histogram per figure (see `latency-histogram.ts`) and one small
 * entry per provider id.
 * @module
 */
import type { FallbackEvent, ReconnectEvent, StreamSummary, UtteranceMetrics } from '../stream/types.js';
import { LatencyHistogram, type LatencySummary } from './latency-histogram.js';

export type { LatencySummary } from './latency-histogram.js';

/** Per-provider part of {@link RecognizerMetrics}. */
export interface ProviderMetrics {
  /** Finals delivered by this provider. */
  utterances: number;
  /** `finalLatencyMs` of this provider's finals, ms. */
  finalLatencyMs: LatencySummary;
  /** Reconnects to this provider. */
  reconnects: number;
  /** Times a stream left this provider for the next one. */
  fallbacksFrom: number;
  /** Times a stream switched to this provider. */
  fallbacksTo: number;
}

/**
 * Snapshot returned by `recognizer.metrics()`. Every duration is in ms; a {@link LatencySummary} with
 * `count: 0` has every field 0. Percentiles come from a log-linear histogram (exact below 128 ms,
 * within 1/128 above), over everything since the recognizer was created.
 */
export interface RecognizerMetrics {
  /** `Date.now()` when counting started (the recognizer's creation). */
  since: number;
  /** Streams by outcome: `started` = `open` + `closed` + `failed` + `aborted`. */
  streams: {
    /** Streams created by `stream()` (and `recognize()`). */
    started: number;
    /** Streams not closed yet. */
    open: number;
    /** Streams that closed normally (`end()`). */
    closed: number;
    /** Streams that failed (closed with an error other than `ABORTED`). */
    failed: number;
    /** Streams closed by `abort()`, an `AbortSignal` or `recognizer.close()`. */
    aborted: number;
  };
  /** Finals delivered (one `metrics` event each). */
  utterances: number;
  /** `finalLatencyMs` of every final: wall time from writing the audio at the final's `endMs` to the final. */
  finalLatencyMs: LatencySummary;
  /** `firstPartialMs` of the utterances that had a partial. */
  firstPartialMs: LatencySummary;
  /**
   * Connection costs, counted once per connection from the first utterance it served (a connection
   * that delivered no final is not seen).
   */
  connections: {
    /** Connections that served at least one final. */
    count: number;
    /** …of which were pre-warmed (no token wait, no handshake). */
    prewarmed: number;
    /** …of which waited for an access-token request (`tokenCached: false`). */
    tokenFetched: number;
    /** Token wait per connection (0 when cached or pre-warmed). */
    tokenMs: LatencySummary;
    /** Handshake time per connection (0 when pre-warmed). */
    connectMs: LatencySummary;
  };
  /** `reconnect` events of all streams. */
  reconnects: number;
  /** `fallback` events of all streams. */
  fallbacks: number;
  /** The same figures by provider id. */
  providers: Record<string, ProviderMetrics>;
}

interface ProviderEntry {
  utterances: number;
  finalLatency: LatencyHistogram;
  reconnects: number;
  fallbacksFrom: number;
  fallbacksTo: number;
}

/** Most provider ids tracked separately (a recognizer has a handful; custom ids beyond this share one entry). */
const MAX_PROVIDER_ENTRIES = 32;

/** Accumulates what streams emit. @internal */
export class MetricsAggregator {
  private readonly since = Date.now();
  private started = 0;
  private closed = 0;
  private failed = 0;
  private aborted = 0;
  private utterances = 0;
  private readonly finalLatency = new LatencyHistogram();
  private readonly firstPartial = new LatencyHistogram();
  private connections = 0;
  private prewarmed = 0;
  private tokenFetched = 0;
  private readonly tokenMs = new LatencyHistogram();
  private readonly connectMs = new LatencyHistogram();
  private reconnects = 0;
  private fallbacks = 0;
  private readonly providers = new Map<string, ProviderEntry>();

  streamStarted(): void {
    this.started++;
  }

  streamClosed(summary: StreamSummary): void {
    if (!summary.error) this.closed++;
    else if (summary.error.code === 'ABORTED') this.aborted++;
    else this.failed++;
  }

  utterance(m: UtteranceMetrics): void {
    this.utterances++;
    this.finalLatency.record(m.finalLatencyMs);
    if (m.firstPartialMs !== undefined) this.firstPartial.record(m.firstPartialMs);
    if (!m.connectionReused) {
      this.connections++;
      if (m.prewarmed) this.prewarmed++;
      if (!m.tokenCached) this.tokenFetched++;
      this.tokenMs.record(m.tokenMs);
      this.connectMs.record(m.connectMs);
    }
    const p = this.provider(m.provider);
    p.utterances++;
    p.finalLatency.record(m.finalLatencyMs);
  }

  reconnect(ev: ReconnectEvent): void {
    this.reconnects++;
    this.provider(ev.provider).reconnects++;
  }

  fallback(ev: FallbackEvent): void {
    this.fallbacks++;
    this.provider(ev.from).fallbacksFrom++;
    this.provider(ev.to).fallbacksTo++;
  }

  snapshot(): RecognizerMetrics {
    const providers: Record<string, ProviderMetrics> = {};
    for (const [id, p] of this.providers) {
      providers[id] = {
        utterances: p.utterances,
        finalLatencyMs: p.finalLatency.summary(),
        reconnects: p.reconnects,
        fallbacksFrom: p.fallbacksFrom,
        fallbacksTo: p.fallbacksTo,
      };
    }
    return {
      since: this.since,
      streams: {
        started: this.started,
        open: this.started - this.closed - this.failed - this.aborted,
        closed: this.closed,
        failed: this.failed,
        aborted: this.aborted,
      },
      utterances: this.utterances,
      finalLatencyMs: this.finalLatency.summary(),
      firstPartialMs: this.firstPartial.summary(),
      connections: {
        count: this.connections,
        prewarmed: this.prewarmed,
        tokenFetched: this.tokenFetched,
        tokenMs: this.tokenMs.summary(),
        connectMs: this.connectMs.summary(),
      },
      reconnects: this.reconnects,
      fallbacks: this.fallbacks,
      providers,
    };
  }

  private provider(id: string): ProviderEntry {
    let p = this.providers.get(id);
    if (!p) {
      const key = this.providers.size >= MAX_PROVIDER_ENTRIES ? '(other)' : id;
      p = this.providers.get(key);
      if (!p) {
        p = { utterances: 0, finalLatency: new LatencyHistogram(), reconnects: 0, fallbacksFrom: 0, fallbacksTo: 0 };
        this.providers.set(key, p);
      }
    }
    return p;
  }
}
