/**
 * `StreamingRecognizer`: the long-lived object (one per process) that owns the
 * providers and everything that must outlive a call: token caches, HTTP
 * keep-alive pools, pre-warmed sockets. Streams never own them, so creating a
 * stream per call never defeats a cache.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { inspect, type InspectOptionsStylized } from 'node:util';
import type { AudioFormat } from '../audio/format.js';
import { readWav } from '../audio/wav.js';
import { ATTACH_COORDINATION, isSelfCoordinating } from '../coordination/attach.js';
import { ConcurrencyBudget, isBudgetRejection, resolveConcurrency } from '../coordination/budget.js';
import type { Coordinator } from '../coordination/coordinator.js';
import { CoordinatorLink } from '../coordination/link.js';
import { withBudget } from '../coordination/limited-provider.js';
import { AudioFormatError, ConfigurationError, StateError } from '../errors/index.js';
import { resolveLogger, type Logger } from '../logger.js';
import type { Provider } from '../providers/provider.js';
import { PROVIDER_RECOVERED, RecognitionStream } from '../stream/recognition-stream.js';
import type { StreamOptions, StreamSummary } from '../stream/types.js';
import { MetricsAggregator, type RecognizerMetrics } from './metrics-aggregator.js';
import { observeStream } from './stream-observer.js';
import { inspectView } from '../inspection.js';
import { checkDurationMs } from '../stream/options.js';

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
  /**
   * `{ debug, info, warn, error }` (`console`, pino, winston…); default silent. A logger without
   * the four functions is a `ConfigurationError`; a logger that throws is ignored, never breaks a stream.
   */
  logger?: Logger;
  /**
   * Fleet coordination (`RedisCoordinator`, or a `LocalCoordinator` shared by recognizers of one
   * process): every recognizer on the same coordinator shares each provider's concurrency budget
   * (`maxConcurrent`), the access token and provider health. Default: none (all per process).
   * See docs/fleet.md.
   */
  coordinator?: Coordinator;
  /**
   * OpenTelemetry spans and metrics (docs/metrics.md, "OpenTelemetry"): `true` records to the
   * global providers of `@opentelemetry/api` (no-ops until an SDK registers), an object names
   * the providers. Needs the optional peer dependency `@opentelemetry/api`; without it,
   * telemetry stays off and one warning is logged. Default off: nothing loaded or subscribed.
   * @throws {@link ConfigurationError} (from the constructor) for a value of another type.
   */
  telemetry?: boolean | TelemetryOptions;
}

/** `coordinator` payload: the coordinator stopped answering (the recognizer carries on alone) or answers again. */
export interface CoordinatorEvent {
  /** `false`: it stopped answering (this process uses its own budgets and token); `true`: it answers again. */
  available: boolean;
  /** The coordinator's name (`'redis'`, `'local'`). */
  coordinator: string;
  /** Why it is unavailable (the failed or late operation's message). */
  reason?: string;
}

/** `availability` payload: a provider left or re-entered rotation for new streams. */
export interface AvailabilityEvent {
  /** Id of the provider. */
  provider: string;
  /** `false`: taken out of rotation after a failure (probed after a cooldown); `true`: a probe succeeded, new streams use it again. */
  available: boolean;
  /** Why it became unavailable. */
  reason?: import('../errors/index.js').SttError;
}

/** Recognizer events. */
export interface StreamingRecognizerEvents {
  /**
   * A provider left rotation for new streams (a stream failed over from it) or came back (a recovery
   * probe, token plus handshake, succeeded; or another process of the fleet saw it recover). Streams
   * already running are not moved. See docs/fallback-and-reliability.md.
   */
  availability: (event: AvailabilityEvent) => void;
  /** The recognizer's `coordinator` stopped answering or answers again (docs/fleet.md). */
  coordinator: (event: CoordinatorEvent) => void;
}

/** Options of {@link StreamingRecognizer.recognize}. */
export interface RecognizeOptions extends Omit<StreamOptions, 'audio'> {
  /** Format of raw audio; not needed for WAV bytes (read from the header). */
  audio?: AudioFormat;
  /** Bytes written per `write()`, ms of audio (1 to 60000). Default 100. */
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
  /** The providers as streams use them (behind the concurrency budget when one applies), in priority order. */
  private readonly connectors: readonly Provider[];
  private readonly link: CoordinatorLink;
  private readonly budgets: ConcurrencyBudget[] = [];
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
      checkStreamLimits(p);
    }
    this.providers = Object.freeze(providers.slice());
    this.language = options.language ?? 'ko-KR';
    this.logger = resolveLogger(options.logger);
    this.reliability = resolveReliability(options.fallback, options.reconnect);
    this.telemetry = RecognizerTelemetry.create(options.telemetry, this.logger);
    const coordinator = options.coordinator;
    if (coordinator !== undefined && (typeof coordinator !== 'object' || typeof coordinator.tryAcquireSlot !== 'function')) {
      throw new ConfigurationError('coordinator must implement the Coordinator interface (RedisCoordinator, LocalCoordinator)');
    }
    this.link = new CoordinatorLink(coordinator, {
      logger: this.logger,
      onAvailability: (available, error) =>
        this.emit('coordinator', {
          available,
          coordinator: coordinator!.name,
          ...(error ? { reason: error.message } : {}),
        }),
    });
    const connectors = this.providers.map((p) => this.coordinate(p));
    this.connectors = connectors;
    this.health = new ProviderHealth(
      connectors,
      this.reliability.recoveryCooldownMs,
      this.reliability.attemptTimeoutMs || 10_000,
      this.logger,
      (provider, available, reason) => {
        this.emit('availability', reason ? { provider, available, reason } : { provider, available });
        if (available) this.switchBack(provider);
      },
    );
    this.health.share(this.link);
  }

  /**
   * Whether the coordinator answers now (`undefined` without one). While it does not, the recognizer
   * carries on alone: per-process budget, token and health.
   */
  get coordinatorAvailable(): boolean | undefined {
    return this.link.shared ? this.link.available : undefined;
  }

  /** Hand a provider the coordinator, or put the generic budget in front of it. */
  private coordinate(p: Provider): Provider {
    if (isSelfCoordinating(p)) {
      p[ATTACH_COORDINATION](this.link);
      return p;
    }
    const limits = p.concurrency ? resolveConcurrency(p.concurrency, p.id) : undefined;
    if (!limits) return p;
    const budget = new ConcurrencyBudget({ ...limits, provider: p.id, resource: `provider:${p.id}`, logger: () => this.logger });
    budget.attach(this.link);
    this.budgets.push(budget);
    return withBudget(p, budget);
  }

  /**
   * `provider` is available again: with `fallback.switchBack`, every open stream served by a provider
   * of lower priority hands back to it at its next utterance boundary.
   */
  private switchBack(id: string): void {
    if (!this.reliability.switchBack || this.closed) return;
    const rank = (x: string): number => this.connectors.findIndex((p) => p.id === x);
    const provider = this.connectors[rank(id)];
    if (!provider) return;
    for (const s of this.open) if (rank(s.provider) > rank(id)) s[PROVIDER_RECOVERED](provider);
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
      // a full budget says nothing about the provider's health: it stays in rotation
      onProviderFailed: (p, err) => {
        if (!isBudgetRejection(err)) this.health.failed(p, err);
      },
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
    checkDurationMs('chunkMs', chunkMs, 1, 60_000);
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
    for (const b of this.budgets) b.close();
    this.link.close();
    this.removeAllListeners();
  }

  /** `await using recognizer = new StreamingRecognizer(…)`: {@link close} at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `util.inspect()` / `console.log()` show: providers (redacted by their own view), counts; never credentials. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    // A provider is shown through its own view; one without a view (a custom provider) by its id only.
    const providers = this.providers.map((p) => (inspect.custom in p ? p : { id: p.id }));
    return inspectView('StreamingRecognizer', { ...this.toJSON(), providers }, depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show; never credentials. */
  toJSON(): Record<string, unknown> {
    return {
      providers: this.providers.map((p) => ('toJSON' in p && typeof p.toJSON === 'function' ? p : { id: p.id })),
      language: this.language,
      openStreams: this.open.size,
      available: Object.fromEntries(this.providers.map((p) => [p.id, this.health.isAvailable(p.id)])),
      closed: this.closed,
    };
  }
}

/** A provider's declared stream limits (`maxStreamMs`, `rotateAfterMs`) must make sense. */
function checkStreamLimits(p: Provider): void {
  const { maxStreamMs: max, rotateAfterMs: soft } = p;
  if (max !== undefined && (typeof max !== 'number' || !Number.isFinite(max) || max < 1000)) {
    throw new ConfigurationError(`provider "${p.id}": maxStreamMs must be a number of ms >= 1000 (got ${String(max)})`);
  }
  if (soft !== undefined) {
    if (max === undefined) throw new ConfigurationError(`provider "${p.id}": rotateAfterMs needs maxStreamMs`);
    if (typeof soft !== 'number' || !Number.isFinite(soft) || soft < 0 || soft > max) {
      throw new ConfigurationError(`provider "${p.id}": rotateAfterMs must be a number of ms from 0 to maxStreamMs (got ${String(soft)})`);
    }
  }
}
