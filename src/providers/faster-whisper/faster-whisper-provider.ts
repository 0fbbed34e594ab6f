/**
 * `FasterWhisperProvider`: a self-hosted Faster-Whisper WebSocket server of
 * the seeds' `realtime_server.py` pattern (port 8765; float32 16 kHz mono
 * binary frames in, `{"text": "…"}` per transcribed chunk out; chunk and
 * overlap durations set on the server). See docs/faster-whisper.md and the
 * reference server in examples/faster-whisper/server.py.
 *
 * The server has no utterances, finals, ids or timestamps, and re-transcribes
 * the overlap of consecutive chunks. The provider turns that into the same
 * events as every other provider: it removes the repeated words, drops
 * Whisper's stock hallucinations, runs the shared energy `Endpointer` on the
 * audio it sends to cut utterances, emits growing partials and one final per
 * utterance with stream-absolute times, and pads the end with silence so the
 * last words are transcribed before `end()` resolves.
 * @module
 */
import { resolveConcurrency, type ResolvedConcurrency } from '../../coordination/budget.js';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { ConfigurationError, AbortError } from '../../errors/index.js';
import { openWebSocket } from '../../transport/open-websocket.js';
import type { ConnectRequest, Provider, ProviderCapabilities, ProviderSession } from '../provider.js';
import { resolveFasterWhisperOptions, type FasterWhisperProviderOptions, type ResolvedFasterWhisperOptions } from './options.js';
import { FasterWhisperSession } from './session.js';
import { inspectView, redactHeaders, safeUrl } from '../../inspection.js';

/** What the provider did, for dashboards and tests. Counts add up over all sessions. */
export interface FasterWhisperProviderStats {
  /** WebSocket handshakes started. */
  connects: number;
  /** `{"text"}` replies received (one per transcribed chunk). */
  replies: number;
  /** Stock hallucination phrases removed from replies. */
  hallucinationsDropped: number;
  /** Words removed because a reply repeated them from the previous chunk (the overlap). */
  overlapWordsRemoved: number;
  /**
   * Words of a reply taken back because the next chunk heard their audio whole: a mangled chunk
   * edge (by text), or words past the middle of the shared audio (by time).
   */
  overlapWordsRetracted: number;
  /** Replies that carried segment or word times (de-duplicated by time). */
  timedReplies: number;
  /** Replies whose text was dropped because the endpointer found no speech in their chunk. */
  textWithoutSpeechDropped: number;
  /** Silence sent on `finalize()`/`end()` to make the server transcribe the last chunk, ms. */
  paddingMs: number;
}

/**
 * Faster-Whisper (chunk/overlap WebSocket server) provider.
 *
 * @example
 * ```ts
 * const whisper = new FasterWhisperProvider({
 *   url: 'ws://gpu-box:8765',
 *   chunkDurationMs: 2000,   // the server's --chunk-duration 2.0
 *   overlapDurationMs: 500,  // the server's --overlap-duration 0.5
 * });
 * const recognizer = new StreamingRecognizer({ providers: [new RtzrProvider(), whisper] });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor for an invalid option.
 */
export class FasterWhisperProvider implements Provider {
  readonly id: string;
  /** The concurrency budget (`maxConcurrent`, `queueTimeoutMs`, `leaseTtlMs`), when `maxConcurrent` is set; enforced by the recognizer. */
  readonly concurrency: Readonly<ResolvedConcurrency> | undefined;
  readonly capabilities: ProviderCapabilities;
  /** Frame duration, ms (frames stay under `maxMessageBytes`). */
  readonly chunkMs: number;
  /** Counters over all sessions. */
  readonly stats: FasterWhisperProviderStats = {
    connects: 0,
    replies: 0,
    hallucinationsDropped: 0,
    overlapWordsRemoved: 0,
    overlapWordsRetracted: 0,
    timedReplies: 0,
    textWithoutSpeechDropped: 0,
    paddingMs: 0,
  };
  private readonly options: ResolvedFasterWhisperOptions;
  private closed = false;

  constructor(options: FasterWhisperProviderOptions = {}) {
    this.options = resolveFasterWhisperOptions(options);
    this.id = this.options.id;
    this.concurrency = resolveConcurrency(options, this.id);
    this.chunkMs = this.options.chunkMs;
    this.capabilities = Object.freeze({
      streaming: true,
      interimResults: true,
      wordTimings: false,
      serverEndpointing: false,
      encodings: ['float32'] as const,
      sampleRates: { min: 16000, max: 16000 },
      preferredSampleRate: 16000,
      stallTimeoutMs: this.options.stallTimeoutMs,
      endTimeoutMs: this.options.endTimeoutMs,
    });
  }

  /**
   * Open a session. Rejects with `ConfigurationError` for a wire format other than float32
   * 16 kHz mono, `ConnectionError`, `TimeoutError`, `AuthenticationError` (401/403 from a proxy),
   * or `AbortError`.
   */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    const f = request.format;
    if (f.encoding !== 'float32' || f.sampleRate !== 16000 || f.channels !== 1) {
      throw new ConfigurationError(
        `Faster-Whisper takes float32 16000 Hz mono audio (got ${f.encoding} ${f.sampleRate} Hz)`,
        { provider: this.id },
      );
    }
    const started = performance.now();
    this.stats.connects++;
    const ws = await openWebSocket({
      provider: this.id,
      label: 'Faster-Whisper server',
      url: this.options.url,
      ...(this.options.headers ? { headers: this.options.headers } : {}),
      timeoutMs: this.options.connectTimeoutMs,
      signal: request.signal,
    });
    const connectMs = Math.round(performance.now() - started);
    request.logger.debug('faster-whisper: connected', { provider: this.id, connectMs });
    const session = new FasterWhisperSession({
      ws,
      costs: { tokenMs: 0, tokenCached: true, connectMs, prewarmed: false },
      options: this.options,
      interimResults: request.interimResults,
      includeRaw: request.includeRaw ?? false,
      stats: this.stats,
      logger: request.logger,
      onResult: (r) => request.onResult(r),
      onError: (e) => request.onError(e),
    });
    if (request.signal.aborted) session.abort();
    else request.signal.addEventListener('abort', () => session.abort(), { once: true });
    return session;
  }

  /** Refuse new sessions. Open sessions belong to their streams. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
  }

  /** What `util.inspect()` / `console.log()` show: URL, options and counters; header values redacted. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('FasterWhisperProvider', this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show; header values redacted. */
  toJSON(): Record<string, unknown> {
    const o = this.options;
    return {
      id: this.id,
      url: safeUrl(o.url),
      ...(o.headers ? { headers: redactHeaders(o.headers) } : {}),
      chunkDurationMs: o.chunkDurationMs,
      overlapDurationMs: o.overlapDurationMs,
      chunkMs: this.chunkMs,
      stats: { ...this.stats },
      closed: this.closed,
    };
  }
}
