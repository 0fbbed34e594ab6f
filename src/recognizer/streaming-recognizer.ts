/**
 * `StreamingRecognizer`: the long-lived object (one per process) that owns the
 * providers and everything that must outlive a call: token caches, HTTP
 * keep-alive pools, pre-warmed sockets. Streams never own them, so creating a
 * stream per call never defeats a cache.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import type { AudioFormat } from '../audio/format.js';
import { readWav } from '../audio/wav.js';
import { AudioFormatError, ConfigurationError, StateError } from '../errors/index.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Provider } from '../providers/provider.js';
import { RecognitionStream } from '../stream/recognition-stream.js';
import type { StreamOptions, StreamSummary } from '../stream/types.js';
import { MetricsAggregator, type RecognizerMetrics } from './metrics-aggregator.js';
import { observeStream } from './stream-observer.js';

import { resolveReliability, type FallbackOptions, type ReconnectOptions, type ResolvedReliability } from '../stream/reliability.js';
import { ProviderHealth } from './health.js';
import type { TelemetryOptions } from '../telemetry/options.js';
import { RecognizerTelemetry } from '../telemetry/recognizer-telemetry.js';

export type { FallbackOptions, ReconnectOptions };

/** Options of `new StreamingRecognizer()`. */
export interface StreamingRecognizerOptions {
  /** Providers in priority order. At least one; ids must be unique. */
  providers: Provider[];
  /** Default BCP-47 language of streams. Default `'ko-KR'`. */
  language?: string;
  /**
   * Fallback policy (switch to the next provider with replay of the audio not yet final), or
   * `false` to disable switching. See docs/fallback-and-reliability.md for triggers and defaults.
   */
  fallback?: FallbackOptions | false;
  /** Reconnecting to the same provider after a dropped or refused connection, or `false` to disable. */
  reconnect?: ReconnectOptions | false;
  /** `{ debug, info, warn, error }`; default silent. */
  logger?: Logger;
  /**
   * OpenTelemetry spans and metrics (docs/metrics.md, "OpenTelemetry"): `true` records to the
   * global providers of `@opentelemetry/api` (no-ops until an SDK registers), an object names
   * the providers. Needs the optional peer dependency `@opentelemetry/api`; without it,
   * telemetry stays off and one warning is logged. Default off: nothing loaded or subscribed.
   * @throws {@link ConfigurationError} (from the constructor) for a value of another type.
   */
  telemetry?: boolean | TelemetryOptions;
}

/** `availability` payload: a provider left or re-entered rotation for new streams. */
export interface AvailabilityEvent {
  provider: string;
  available: boolean;
  /** Why it became unavailable. */
  reason?: import('../errors/index.js').SttError;
}

/** Recognizer events. */
export interface StreamingRecognizerEvents {
  availability: (event: AvailabilityEvent) => void;
}

/** Options of {@link StreamingRecognizer.recognize}. */
export interface RecognizeOptions extends Omit<StreamOptions, 'audio'> {
  /** Format of raw audio; not needed for WAV bytes (read from the header). */
  audio?: AudioFormat;
  /** Bytes written per `write()`, ms of audio. Default 100. */
  chunkMs?: number;
}

/**
 * Entry point of the library.
 *
 * @example
 * ```ts
 * const recognizer = new StreamingRecognizer({ providers: [new RtzrProvider()] });
 * const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
 * stream.on('final', (t) => console.log(t.text, t.latencyMs));
 * stream.write(frame); // as audio arrives
 * const summary = await stream.end();
 * ```
 * @throws {@link ConfigurationError} when `providers` is empty or ids repeat.
 */
export class StreamingRecognizer extends EventEmitter<StreamingRecognizerEvents> {
  /** Providers in priority order. */
  readonly providers: readonly Provider[];
  /** Default language of streams. */
  readonly language: string;
  private readonly logger: Logger;
  private readonly reliability: ResolvedReliability;
  private readonly health: ProviderHealth;
  private readonly open = new Set<RecognitionStream>();
  private readonly aggregate = new MetricsAggregator();
  private streamIds = 0;
  private closed = false;
  private readonly telemetry: RecognizerTelemetry | undefined;

  constructor(options: StreamingRecognizerOptions) {
    super();
    const providers = options?.providers;
    if (!Array.isArray(providers) || providers.length === 0) {
      throw new ConfigurationError('StreamingRecognizer needs at least one provider');
    }
    const ids = new Set<string>();
    for (const p of providers) {
      if (!p || typeof p.connect !== 'function' || typeof p.id !== 'string') {
        throw new ConfigurationError('every provider must implement the Provider interface (id, capabilities, connect)');
      }
      if (ids.has(p.id)) throw new ConfigurationError(`duplicate provider id "${p.id}"`);
      ids.add(p.id);
    }
    this.providers = Object.freeze(providers.slice());
    this.language = options.language ?? 'ko-KR';
    this.logger = options.logger ?? silentLogger;
    this.reliability = resolveReliability(options.fallback, options.reconnect);
    this.telemetry = RecognizerTelemetry.create(options.telemetry, this.logger);
    this.health = new ProviderHealth(
      this.providers,
      this.reliability.recoveryCooldownMs,
      this.reliability.attemptTimeoutMs || 10_000,
      this.logger,
      (provider, available, reason) =>
        this.emit('availability', reason ? { provider, available, reason } : { provider, available }),
    );
  }

  /**
   * Whether a provider is in rotation for new streams (false after it triggered a fallback,
   * until a recovery probe succeeds).
   */
  isAvailable(providerId: string): boolean {
    return this.health.isAvailable(providerId);
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.open.size;
  }

  /**
   * Start a stream (one per call). The connection opens at once; audio written before it is
   * open is queued.
   * @throws {@link ConfigurationError} for an unknown encoding or a sample rate outside 8000–48000 Hz;
   * {@link StateError} after `close()`.
   */
  stream(options: StreamOptions = {}): RecognitionStream {
    if (this.closed) throw new StateError('the recognizer is closed');
    const streamId = ++this.streamIds;
    const providers = this.health.order();
    const create = (): RecognitionStream => new RecognitionStream({
      providers,
      options,
      language: this.language,
      logger: this.logger,
      reliability: this.reliability,
      onProviderFailed: (p, err) => this.health.failed(p, err),
      onClosed: (x) => this.open.delete(x),
    });
    const s = this.telemetry
      ? this.telemetry.stream({ streamId, options, language: options.language ?? this.language, provider: providers[0]?.id }, create)
      : create();
    this.open.add(s);
    observeStream(s, { streamId, aggregator: this.aggregate, logger: this.logger });
    return s;
  }

  /**
   * The aggregate of every stream this recognizer created: stream and utterance counts, p50/p95/p99 of
   * `finalLatencyMs`, token and connect costs, reconnects, fallbacks, per provider too. A fresh snapshot
   * object on each call; cheap (bounded histograms), callable at any time, also after `close()`.
   */
  metrics(): RecognizerMetrics {
    return this.aggregate.snapshot();
  }

  /**
   * One-shot recognition of a whole recording: WAV bytes (format from the header) or raw audio
   * with `options.audio`. Sends faster than real time, honouring backpressure.
   * @throws {@link AudioFormatError} for bytes that are not a supported WAV and no `audio` format.
   */
  async recognize(input: Uint8Array | ArrayBuffer, options: RecognizeOptions = {}): Promise<StreamSummary> {
    const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
    let audio = options.audio;
    let data = bytes;
    const isWav = bytes.length >= 12 && bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[2] === 0x46 && bytes[3] === 0x46;
    if (isWav) {
      const wav = readWav(bytes);
      audio = wav.format;
      data = wav.data;
    } else if (!audio) {
      throw new AudioFormatError('recognize(): input is not a WAV file; pass options.audio to describe raw audio');
    }
    const { chunkMs = 100, ...streamOptions } = options;
    const stream = this.stream({ ...streamOptions, audio });
    const sampleBytes = audio!.encoding === 'linear16' ? 2 : audio!.encoding === 'float32' ? 4 : 1;
    const step = Math.max(1, Math.round((audio!.sampleRate * chunkMs) / 1000)) * sampleBytes;
    async function* chunks(): AsyncIterable<Uint8Array> {
      for (let off = 0; off < data.length; off += step) yield data.subarray(off, Math.min(off + step, data.length));
    }
    return stream.pipeFrom(chunks());
  }

  /** Fetch tokens and open pre-warmed connections of every provider. Rejects with the first failure. */
  async warmup(): Promise<void> {
    const run = () => Promise.all(this.providers.map((p) => p.warmup?.({ logger: this.logger })));
    await (this.telemetry ? this.telemetry.run(run) : run());
  }

  /** Abort open streams, then close every provider's pools, sockets and timers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.health.close();
    for (const s of [...this.open]) s.abort('recognizer closed');
    this.telemetry?.close();
    await Promise.all(this.providers.map((p) => p.close?.()));
    this.removeAllListeners();
  }
}
