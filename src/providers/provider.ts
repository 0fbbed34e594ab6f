/**
 * The public provider contract. Every built-in provider implements it, and so
 * can yours (a Deepgram provider can live outside this package).
 *
 * A provider is long-lived (one per process, owned by a `StreamingRecognizer`):
 * it owns what must outlive a call (token cache, HTTP keep-alive pool,
 * pre-warmed sockets). {@link Provider.connect} opens one session per stream;
 * the stream feeds it audio already converted to a format the provider
 * accepts, and receives results through the handlers it passed in.
 * @module
 */
import type { AudioEncoding, AudioFormat } from '../audio/format.js';
import type { ConcurrencyOptions } from '../coordination/budget.js';
import type { SttError } from '../errors/index.js';
import type { Logger } from '../logger.js';

/** What a provider can do and which audio it accepts on the wire. */
export interface ProviderCapabilities {
  /** Results arrive while audio is still being sent. */
  streaming: boolean;
  /** Emits partial (interim) hypotheses. */
  interimResults: boolean;
  /** Finals carry word timings. */
  wordTimings: boolean;
  /** The server detects end of utterance (EPD) itself. */
  serverEndpointing: boolean;
  /**
   * Wire encodings accepted, preferred first. The stream passes the caller's encoding through
   * when it is in this list, and otherwise converts to the first entry.
   */
  encodings: readonly AudioEncoding[];
  /** Accepted sample rates, Hz: the stream keeps the caller's rate inside the range, else resamples to `preferredSampleRate`. */
  sampleRates: {
    /** Lowest accepted rate, Hz. */
    min: number;
    /** Highest accepted rate, Hz. */
    max: number;
  };
  /** Rate used when the caller's rate is outside `sampleRates`, Hz. */
  preferredSampleRate: number;
  /**
   * How long this provider may legitimately go without any result while speech is being sent, ms:
   * the stream's stall timeout when `fallback.stallTimeoutMs` is not set. A Whisper server's first
   * result takes seconds (a model pass over a window of audio); RTZR answers within a few hundred ms.
   * Default: 5000. A provider that sets it is watched on wall time only (its answers take a model
   * pass whatever the input pace); one that does not is also watched on the audio sent, so a
   * recording written faster than real time is caught stalling while it is being sent.
   */
  stallTimeoutMs?: number;
  /**
   * How long this provider may legitimately take, after the end of audio, to deliver its last
   * finals and close, ms: the stream's end timeout when the stream's `endTimeoutMs` is not set. A
   * Whisper server may need several model passes (seconds each) after the last audio. Default: 5000.
   */
  endTimeoutMs?: number;
}

/** One result of a session, times relative to the session's first audio byte (ms). */
export interface ProviderResult {
  /** `'partial'`: may still change; `'final'`: the segment's last word (later results for it are ignored). */
  type: 'partial' | 'final';
  /** The provider's key of the utterance within the session (RTZR `seq`). Results after a segment's final are ignored. */
  segment: number;
  /** The recognised text (the whole segment so far, not a delta). */
  text: string;
  /** Start of the segment, ms since the session's first audio byte. */
  startMs: number;
  /** End of the segment (finals) or of the audio recognised so far (partials), same clock. */
  endMs: number;
  /** 0..1, when the provider gives one. */
  confidence?: number;
  /** Word timings, when the provider gives them. */
  words?: {
    /** The word. */
    text: string;
    /** Start of the word, ms since the session's first audio byte (the stream makes it stream-absolute). */
    startMs: number;
    /** End of the word, same clock. */
    endMs: number;
    /** 0..1, when the provider gives one. */
    confidence?: number;
  }[];
  /** BCP-47 language the provider reports, when it does (default: the request's). */
  language?: string;
  /** The provider's message, set only when {@link ConnectRequest.includeRaw} is true. */
  raw?: unknown;
}

/** What opening a session cost, reported in `metrics`. */
export interface SessionCosts {
  /** Time waited for an access token, ms (0 when cached). */
  tokenMs: number;
  /** True when no token request was waited for (the token was cached or not needed). */
  tokenCached: boolean;
  /** Connection/handshake time, ms (0 for a pre-warmed socket). */
  connectMs: number;
  /** Whether the socket was opened ahead of demand. */
  prewarmed: boolean;
}

/** A keyword to boost: `'word'`, or `[word, score]` (the score's range is the provider's). */
export type KeywordOption = string | readonly [string, number];

/**
 * Per-stream options of one session: what a stream sets with its `keywords` and `providerOptions`
 * options, or changes mid-call with `stream.reconfigure()`. A provider that takes them declares
 * {@link Provider.checkSessionOptions}; one that does not ignores `keywords` and is never given
 * `decoder` options (the stream rejects those up front).
 */
export interface SessionOptions {
  /** Keywords to boost for this stream; replace the provider's own `keywords` option. */
  keywords?: readonly KeywordOption[];
  /**
   * Decoder options for this stream, with the names of the provider's own options (e.g. RTZR
   * `{ epdTime: 0.8, useItn: false }`); they override the provider's options for this stream only.
   */
  decoder?: Readonly<Record<string, unknown>>;
}

/** Passed to {@link Provider.connect}. */
export interface ConnectRequest {
  /** The wire format the stream will send (chosen from the provider's capabilities). */
  format: Required<AudioFormat>;
  /** BCP-47 language. */
  language: string;
  /** Whether the stream emits partials (the stream's `interimResults`); a provider may ask its server for none when false. */
  interimResults: boolean;
  /** Attach the provider's message to each result as `raw`. */
  includeRaw?: boolean;
  /** Fires when the stream is aborted; the provider must then reject with an `AbortError` and release everything. */
  signal: AbortSignal;
  /** The stream's logger (never throws); log at `debug` for per-message detail. */
  logger: Logger;
  /** A result arrived. */
  onResult(result: ProviderResult): void;
  /** The session failed; it is closed (or closing) and will deliver nothing more. Called at most once. */
  onError(error: SttError): void;
  /**
   * This stream's own options (its `keywords`/`providerOptions`, or a `reconfigure()`), already
   * accepted by {@link Provider.checkSessionOptions}. Absent: the provider's options alone.
   */
  options?: SessionOptions;
}

/** How {@link ProviderSession.end} finished. */
export type EndOutcome = 'closed' | 'timeout';

/** One open connection serving one stream. */
export interface ProviderSession {
  /** What opening this session cost (token wait, handshake), reported in the first utterance's `metrics`. */
  readonly costs: SessionCosts;
  /** Bytes accepted by {@link send} but not yet written to the network. */
  readonly bufferedAmount: number;
  /**
   * Send audio in the negotiated wire format. `onSent` runs when the bytes have been handed to
   * the network (used for backpressure). After the session closed or started ending, the audio is
   * dropped and `onSent` still runs (the stream counts bytes in flight until it does).
   */
  send(audio: Uint8Array, onSent?: () => void): void;
  /** End the current utterance now (the caller's VAD says the turn ended); keep the session open. */
  finalize(): void;
  /**
   * Signal end of audio, deliver the remaining finals, then close. Resolves `'closed'` when the
   * server delivered everything and closed (or the session was already closed), `'timeout'` when
   * `timeoutMs` passed first (the session is then terminated; finals may be missing and the
   * stream recovers them elsewhere). Never rejects.
   */
  end(timeoutMs: number): Promise<EndOutcome>;
  /** Close immediately, deliver nothing more. Idempotent. */
  abort(): void;
}

/** Passed to {@link Provider.warmup} by the recognizer. */
export interface WarmupOptions {
  /** The recognizer's logger, for the provider's background work (pools, token refresh). */
  logger?: Logger;
}

/** A speech-to-text provider. */
export interface Provider {
  /** Short id used in events and metrics (`'rtzr'`, `'google'`, …). Unique within a recognizer. */
  readonly id: string;
  /** What it can do and which audio it accepts: the stream converts the caller's audio to fit. */
  readonly capabilities: ProviderCapabilities;
  /** Preferred duration of each audio frame sent, ms (the stream re-chunks to it). Default 100. */
  readonly chunkMs?: number;
  /**
   * The longest one connection (one provider stream) may live, ms, counted from the moment
   * `connect()` resolved: the stream hands over to a new connection by then (a `handover` event,
   * reason `'rotation'`), at an utterance boundary if one came after {@link rotateAfterMs}, else
   * forced, replaying the audio not yet final. Unset: no limit. At least 1000 (the recognizer
   * throws a `ConfigurationError` otherwise). Google's `StreamingRecognize` ends a stream after
   * ~305 s, so `GoogleProvider` streaming mode declares 290 000 by default (Google's
   * endless-streaming sample restarts at 290 s).
   * Source: https://cloud.google.com/speech-to-text/docs/quotas.
   */
  readonly maxStreamMs?: number;
  /**
   * From this connection age on, ms, the stream opens a new connection ahead and hands over to it
   * at the next utterance boundary (between a final and the next partial), before
   * {@link maxStreamMs}. Default `max(maxStreamMs / 2, maxStreamMs − 60 000)`; at most `maxStreamMs`.
   * See docs/fallback-and-reliability.md ("Handover").
   */
  readonly rotateAfterMs?: number;
  /**
   * Check per-stream options (`keywords`, `decoder`) the way the provider checks its own, before a
   * stream uses them: from `recognizer.stream()` and `stream.reconfigure()`. Optional: a provider
   * without it ignores `keywords`, and a stream rejects `providerOptions` for it.
   * @throws {@link ConfigurationError} (`INVALID_CONFIG`) naming the invalid option.
   */
  checkSessionOptions?(options: SessionOptions): void;
  /**
   * Concurrency budget: at most `maxConcurrent` sessions open at once (fleet-wide when the recognizer
   * has a `coordinator`). The recognizer takes a lease before each `connect()` and gives it back when
   * the session ends, fails or is aborted; a stream that finds the budget full falls back with a
   * `RateLimitError` without calling `connect()`. Built-in providers set it from their `maxConcurrent`
   * option (RTZR also counts its pre-warmed sockets). See docs/fleet.md.
   */
  readonly concurrency?: ConcurrencyOptions;
  /**
   * Open a session. Rejects with an `SttError`: `AuthenticationError`, `RateLimitError`,
   * `ConnectionError`, `TimeoutError`, `ConfigurationError`, or `AbortError` when `request.signal` fires.
   */
  connect(request: ConnectRequest): Promise<ProviderSession>;
  /**
   * Cheap health check used to bring a failed provider back into rotation (token + handshake, no
   * audio). Rejects with an `SttError` when the provider is still unusable. Optional: without it the
   * recognizer opens a session and closes it at once.
   */
  probe?(signal: AbortSignal): Promise<void>;
  /** Fetch tokens and open pre-warmed connections ahead of demand. Rejects with a typed `SttError`. */
  warmup?(options?: WarmupOptions): Promise<void>;
  /** Release pools, sockets and timers. Idempotent. */
  close?(): Promise<void>;
}
