/**
 * `WhisperLiveProvider`: collabora/WhisperLive servers (WebSocket, default
 * port 9090), https://github.com/collabora/WhisperLive.
 *
 * One socket per stream: an options message (`uid`, `language`, `task`,
 * `model`, `use_vad`, …), `SERVER_READY`, float32 16 kHz mono frames, and
 * transcript updates that re-send the last segments. The provider removes the
 * re-sent segments: a committed segment (`completed: true`) is a final, the
 * trailing in-progress one a partial.
 * @module
 */
import { resolveConcurrency, type ResolvedConcurrency } from '../../coordination/budget.js';
import { randomUUID } from 'node:crypto';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { AbortError, ConfigurationError } from '../../errors/index.js';
import { openWebSocket } from '../../transport/open-websocket.js';
import type { ConnectRequest, Provider, ProviderCapabilities, ProviderSession } from '../provider.js';
import { buildOptionsMessage } from './messages.js';
import { resolveWhisperLiveOptions, type ResolvedWhisperLiveOptions, type WhisperLiveProviderOptions } from './options.js';
import { WhisperLiveSession } from './session.js';
import { inspectView, REDACTED, redactHeaders, safeUrl } from '../../inspection.js';

/** What the provider did, for dashboards and tests. Counts add up over all sessions. */
export interface WhisperLiveProviderStats {
  /** WebSocket handshakes started. */
  connects: number;
  /** Transcript updates (`segments` messages) received. */
  updates: number;
  /** Committed segments ignored because an earlier update had delivered them. */
  segmentsResent: number;
  /** `WAIT` answers (server full). */
  waits: number;
  /**
   * In-progress segments delivered as finals at `end()`, because the server had provably
   * transcribed all the speech sent (it commits nothing on `END_OF_AUDIO`).
   */
  pendingDelivered: number;
}

/**
 * WhisperLive provider.
 *
 * @example
 * ```ts
 * const live = new WhisperLiveProvider({ url: 'ws://gpu-box:9090', model: 'large-v3-turbo', apiKey: process.env.WHISPERLIVE_API_KEY });
 * const recognizer = new StreamingRecognizer({ providers: [live] });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor for an invalid option.
 */
export class WhisperLiveProvider implements Provider {
  readonly id: string;
  /** The concurrency budget (`maxConcurrent`, `queueTimeoutMs`, `leaseTtlMs`), when `maxConcurrent` is set; enforced by the recognizer. */
  readonly concurrency: Readonly<ResolvedConcurrency> | undefined;
  readonly capabilities: ProviderCapabilities;
  readonly chunkMs: number;
  /** Counters over all sessions. */
  readonly stats: WhisperLiveProviderStats = { connects: 0, updates: 0, segmentsResent: 0, waits: 0, pendingDelivered: 0 };
  private readonly options: ResolvedWhisperLiveOptions;
  private closed = false;

  constructor(options: WhisperLiveProviderOptions = {}) {
    this.options = resolveWhisperLiveOptions(options);
    this.id = this.options.id;
    this.concurrency = resolveConcurrency(options, this.id);
    this.chunkMs = this.options.chunkMs;
    this.capabilities = Object.freeze({
      streaming: true,
      interimResults: true,
      wordTimings: this.options.wordTimestamps,
      serverEndpointing: true,
      encodings: ['float32'] as const,
      sampleRates: { min: 16000, max: 16000 },
      preferredSampleRate: 16000,
      stallTimeoutMs: this.options.stallTimeoutMs,
      endTimeoutMs: this.options.endTimeoutMs,
    });
  }

  /**
   * Open a session and wait for `SERVER_READY`. Rejects with `RateLimitError` (`WAIT`: the server
   * has `max_clients` sessions), `ProviderError` (`ERROR`, e.g. the model failed to load),
   * `TimeoutError` (no `SERVER_READY` within `readyTimeoutMs`, or a slow handshake),
   * `AuthenticationError` (HTTP 401/403: wrong or missing `apiKey`), `ConnectionError`,
   * `ConfigurationError` (wire format other than float32 16 kHz mono) or `AbortError`.
   */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    const f = request.format;
    if (f.encoding !== 'float32' || f.sampleRate !== 16000 || f.channels !== 1) {
      throw new ConfigurationError(`WhisperLive takes float32 16000 Hz mono audio (got ${f.encoding} ${f.sampleRate} Hz)`, {
        provider: this.id,
      });
    }
    const startedAt = performance.now();
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.apiKey) headers.Authorization = `Bearer ${this.options.apiKey}`;
    this.stats.connects++;
    const ws = await openWebSocket({
      provider: this.id,
      label: 'WhisperLive server',
      url: this.options.url,
      headers,
      timeoutMs: this.options.connectTimeoutMs,
      signal: request.signal,
    });
    const uid = randomUUID();
    const language = this.options.language !== undefined ? this.options.language : (request.language.split('-')[0] ?? 'ko').toLowerCase();
    const session = new WhisperLiveSession({
      ws,
      uid,
      optionsMessage: buildOptionsMessage(this.options, uid, language),
      options: this.options,
      startedAt,
      interimResults: request.interimResults,
      includeRaw: request.includeRaw ?? false,
      stats: this.stats,
      logger: request.logger,
      onResult: (r) => request.onResult(r),
      onError: (e) => request.onError(e),
    });
    const onAbort = (): void => session.abort();
    if (request.signal.aborted) session.abort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await session.ready;
    } catch (err) {
      request.signal.removeEventListener('abort', onAbort);
      throw err;
    }
    request.logger.debug('whisperlive: connected', { provider: this.id, connectMs: session.costs.connectMs });
    return session;
  }

  /** Refuse new sessions. Open sessions belong to their streams. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** What `util.inspect()` / `console.log()` show: URL, options and counters; the API key and header values redacted. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('WhisperLiveProvider', this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show; the API key and header values redacted. */
  toJSON(): Record<string, unknown> {
    const o = this.options;
    return {
      id: this.id,
      url: safeUrl(o.url),
      ...(o.apiKey ? { apiKey: REDACTED } : {}),
      ...(o.headers ? { headers: redactHeaders(o.headers) } : {}),
      model: o.model,
      task: o.task,
      useVad: o.useVad,
      chunkMs: this.chunkMs,
      stats: { ...this.stats },
      closed: this.closed,
    };
  }
}
