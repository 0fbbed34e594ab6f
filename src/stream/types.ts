/**
 * Result, metrics and event shapes of a {@link RecognitionStream}.
 * @module
 */
import type { AudioFormat } from '../audio/format.js';
import type { SttError } from '../errors/index.js';
import type { KeywordOption } from '../providers/provider.js';

/** A word with stream-absolute times (ms of audio since the stream's first byte). */
export interface Word {
  /** The word as the provider wrote it. */
  text: string;
  /** Start of the word, ms of the stream's audio timeline. */
  startMs: number;
  /** End of the word, ms of the stream's audio timeline. */
  endMs: number;
  /** The provider's confidence in the word, 0..1, when it gives one. */
  confidence?: number;
}

/** A partial (interim, may change) or final (will not change) transcript of one utterance. */
export interface Transcript {
  /** `'partial'`: interim hypothesis, superseded by later partials and the final; `'final'`: will not change. */
  type: 'partial' | 'final';
  /** The text, verbatim from the provider (may be `''` for a final of an utterance that had no words). */
  text: string;
  /** 0, 1, 2… per stream; continuous across reconnects and fallback. */
  utteranceId: number;
  /** Start of the utterance in the stream's audio timeline, ms of audio since the first byte written. */
  startMs: number;
  /** End of the utterance (finals) or of the audio recognised so far (partials), same timeline. */
  endMs: number;
  /** 0..1, when the provider gives one. */
  confidence?: number;
  /** Word timings, stream-absolute; finals only, when the provider gives them. */
  words?: Word[];
  /** BCP-47 language of the transcript, when known. */
  language?: string;
  /** Id of the provider that produced it: `'rtzr'`, `'google'`, `'faster-whisper'`, `'whisperlive'` or a custom id. */
  provider: string;
  /** Finals: wall time (ms) from the moment the audio at `endMs` was written to this event. */
  latencyMs?: number;
  /** The provider's message, only with `includeRaw: true`. */
  raw?: unknown;
}

/** Cost and latency of one utterance, emitted as `metrics` once per final. */
export interface UtteranceMetrics {
  /** The utterance, as in its `final`'s `utteranceId`. */
  utteranceId: number;
  /** Id of the provider that delivered the final. */
  provider: string;
  /** Duration of the utterance's audio, ms. */
  audioMs: number;
  /** Token wait paid for this utterance, ms: the connection's token cost on its first utterance, 0 after. */
  tokenMs: number;
  /** True when no token request was on this utterance's critical path. */
  tokenCached: boolean;
  /** WebSocket/connection set-up paid for this utterance, ms: the handshake on a connection's first utterance, 0 after. */
  connectMs: number;
  /** True when the utterance rode a connection already used by an earlier utterance of the stream. */
  connectionReused: boolean;
  /** True when the connection was opened ahead of demand (pre-warmed pool). */
  prewarmed: boolean;
  /** Wall time (ms) from the moment the audio at the utterance's start was written to its first partial. */
  firstPartialMs?: number;
  /** Same as the final's `latencyMs`. */
  finalLatencyMs: number;
}

/** What a stream delivered, returned by `end()` and carried by `close`. */
export interface StreamSummary {
  /** Finals, in order. */
  transcripts: Transcript[];
  /** Non-empty finals joined with a space. */
  text: string;
  /** Audio written and accepted, ms (the stream's audio timeline). */
  audioMs: number;
  /**
   * Audio written but never sent, ms (to the microsecond: a partial sample is a fraction of a ms):
   * chunks written after `end()`, `abort()`, the `signal` or a failure; a partial sample left at the
   * end; audio over what the stream can keep (see the `warning` event). Dropped audio is not part of
   * the timeline. Writes after `close` keep adding to this summary's count.
   */
  droppedMs: number;
  /** Every provider that served this stream, in order. */
  providers: string[];
  /** New connections to the same provider after a failure (`reconnect` events). */
  reconnects: number;
  /** Switches to another provider (`fallback` events). */
  fallbacks: number;
  /** Handovers to a new connection (`handover` events: reconfigure, rotation, switch-back). */
  handovers: number;
  /** Why the stream failed or was aborted, when it did not end normally. */
  error?: SttError;
}

/** `reconnect` payload: a new connection to the same provider starts now. */
export interface ReconnectEvent {
  /** Id of the provider reconnected to. */
  provider: string;
  /** 1, 2, 3… counting the attempts of this outage (see docs/fallback-and-reliability.md). */
  attempt: number;
  /** Time waited since the failure before this attempt (backoff, never less than the server's `Retry-After`), ms. */
  delayMs: number;
  /** The failure that caused it. */
  reason: SttError;
}

/** `fallback` payload: the stream switched provider mid-stream. */
export interface FallbackEvent {
  /** Id of the provider the stream leaves. */
  from: string;
  /** Id of the provider that serves the stream from now on. */
  to: string;
  /** The failure that caused the switch (`retryable` tells whether `from` may serve again later). */
  reason: SttError;
  /** Audio replayed into the new provider, ms. */
  replayedMs: number;
}

/**
 * Why a stream moved to a new connection:
 * - `'reconfigure'`: `stream.reconfigure()` changed options that only a new connection takes;
 * - `'rotation'`: the connection neared its provider's stream limit (`Provider.maxStreamMs`,
 *   `rotateAfterMs`; Google's ~5-minute `StreamingRecognize` limit);
 * - `'switchback'`: after a fallback, the higher-priority provider is available again
 *   (`fallback.switchBack`).
 */
export type HandoverReason = 'reconfigure' | 'rotation' | 'switchback';

/**
 * `handover` payload: the stream moved to a new connection, opened ahead while the old one kept
 * serving (make-before-break), at an utterance boundary. No word is lost or repeated: the new
 * connection is sent the audio after the last final, the old one is closed and whatever it still
 * sends is ignored; `utteranceId`s and times continue. The stream stays `open` (no `state` or
 * `open` event). See docs/fallback-and-reliability.md ("Handover") for the boundary, the bounds and
 * what happens when no boundary comes.
 */
export interface HandoverEvent {
  /** Provider of the old connection. */
  from: string;
  /** Provider of the new connection (the same as `from` for a reconfigure or a rotation). */
  to: string;
  /** Why the stream moved: `reconfigure()`, a provider's stream limit, or a switch back after a fallback. */
  reason: HandoverReason;
  /**
   * No utterance boundary came in time (`fallback.handoverWaitMs`, or the provider's `maxStreamMs`):
   * the utterance in progress continues on the new connection under the same `utteranceId`,
   * re-recognised from its start.
   */
  forced: boolean;
  /** Audio sent again to the new connection at once (after the last final), ms. */
  replayedMs: number;
}

/**
 * What `stream.reconfigure()` can change mid-call. Every field is optional; a field left out keeps
 * its current value.
 */
export interface ReconfigureOptions {
  /** BCP-47 language of the new connection. */
  language?: string;
  /** Emit `partial` events. */
  interimResults?: boolean;
  /** Keywords to boost (replaces the list; `[]` clears it). See {@link StreamOptions.keywords}. */
  keywords?: readonly KeywordOption[];
  /**
   * Decoder options by provider id, merged key by key into the current ones (a key set to
   * `undefined` goes back to the provider's own option). See {@link StreamOptions.providerOptions}.
   */
  providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Codes of the `warning` event:
 * - `AUDIO_OVER_WINDOW`: a `write()` brought more audio than the stream can keep unsent
 *   (`replayWindowMs`); the excess was dropped (counted in `droppedMs`) and `write()` returned false.
 *
 * Other codes may be added in minor releases; treat unknown codes as informational.
 */
export type StreamWarningCode = 'AUDIO_OVER_WINDOW' | (string & {});

/** `warning` payload: something was dropped or degraded without failing the stream. */
export interface StreamWarning {
  /** What happened; see {@link StreamWarningCode}. */
  code: StreamWarningCode;
  /** What was dropped or degraded, and why. */
  message: string;
  /** Audio dropped by this occurrence, ms, when audio was dropped. */
  droppedMs?: number;
}

/**
 * `state` payload: the stream's lifecycle state changed. `reason` says why when a failure caused
 * it (`open → connecting` when the connection was lost, `→ failed`, `→ closed` on abort).
 */
export interface StateEvent {
  /** The state before the change. */
  from: StreamState;
  /** The state now (`stream.state`). */
  to: StreamState;
  /** The failure behind the change, when one caused it. */
  reason?: SttError;
}

/**
 * Typed event map of a {@link RecognitionStream} (listener signatures), for `stream.on(name, listener)`.
 *
 * Times in payloads (`startMs`, `endMs`) are ms of the stream's audio timeline: audio written and
 * accepted since the first byte, whatever the provider, connection or reconnect. Latencies are wall
 * time, ms.
 *
 * Order guarantees:
 * - Per utterance: `speechstart` → `partial`* → `final` → `speechend` → `metrics`, with the same
 *   `utteranceId`; `final`, `speechend` and `metrics` are emitted back to back. Utterance ids count
 *   0, 1, 2… in the order utterances start, continuously across reconnects and fallbacks, and no
 *   final is ever delivered twice.
 * - Connections: `state` (`connecting → open`) then `open`; after a failure `state`
 *   (`open → connecting`, with the reason), then `reconnect` or `fallback`, then `open` again.
 * - End: `close` is always the last event, exactly once, for every stream (ended, aborted or
 *   failed); a failure emits `state` (`→ failed`), then `error`, then `close`. No listener is
 *   called after `close` (the stream removes them all).
 *
 * See docs/getting-started.md for an example and docs/fallback-and-reliability.md for recovery.
 */
export interface RecognitionStreamEvents {
  /**
   * The lifecycle state changed ({@link StreamState}): `connecting → open` when the first
   * connection is ready, `open → connecting` when it was lost (with `reason`), `→ ending` on
   * `end()`, then `→ closed` or `→ failed`. Not emitted for the initial `connecting`. While
   * `ending`, recovery goes on without a state change.
   */
  state: (event: StateEvent) => void;
  /**
   * A provider connection is ready and serves the stream from now on: the first one, and each new
   * one after a `reconnect` or `fallback`. `provider` is its id (also `stream.provider`). Audio
   * written before it was queued, not lost.
   */
  open: (event: { provider: string }) => void;
  /**
   * The first result (partial or final) of a new utterance arrived: the caller is speaking. Once
   * per `utteranceId`, just before that result's event (its first `partial`, or its `final` when no
   * partial came first); an utterance that continues on a new connection after a failure does not
   * start again.
   * `startMs` is the utterance's start in the audio timeline. The usual trigger for barge-in. (The
   * energy {@link Endpointer}'s `voicestart` is a different thing: voiced audio, no recognition.)
   */
  speechstart: (event: { utteranceId: number; startMs: number }) => void;
  /**
   * An interim hypothesis of the open utterance ({@link Transcript} with `type: 'partial'`); later
   * partials and the final supersede it. Only with `interimResults: true` (the default).
   */
  partial: (transcript: Transcript) => void;
  /**
   * The utterance's text that will not change ({@link Transcript} with `type: 'final'`), with
   * `latencyMs` (wall ms from writing the audio at `endMs` to this event). Exactly once per
   * utterance; also collected, in order, in {@link StreamSummary.transcripts}.
   */
  final: (transcript: Transcript) => void;
  /**
   * The utterance ended: emitted right after its `final`, with its id and `endMs` (same as the
   * final's). Not a voice-activity decision; see the {@link Endpointer} for that.
   */
  speechend: (event: { utteranceId: number; endMs: number }) => void;
  /**
   * Cost and latency of the utterance ({@link UtteranceMetrics}): one per final, right after its
   * `speechend`. Also aggregated by `recognizer.metrics()`.
   */
  metrics: (metrics: UtteranceMetrics) => void;
  /**
   * A new connection to the same provider starts now, after a transient failure and its backoff
   * (`delayMs`, at least the server's `Retry-After`); the audio not yet final is replayed into it.
   * Followed by `open` when it is ready (or another `reconnect`/`fallback` if it fails too).
   */
  reconnect: (event: ReconnectEvent) => void;
  /**
   * The stream switched to the next provider mid-stream (`from` → `to`, `reason`); the audio not yet
   * final (`replayedMs`) is replayed into it. Utterance ids and times continue. Followed by `open`.
   */
  fallback: (event: FallbackEvent) => void;
  /**
   * The stream failed: it gave up (docs/fallback-and-reliability.md) and the {@link SttError} is also
   * `summary.error`. With one provider (or `fallback: false`) it is that provider's last error, a
   * {@link TimeoutError} when no connection could be made within `giveUpAfterMs` and nothing else
   * failed; with several, an {@link AllProvidersFailedError} carrying each one's last error. Emitted
   * after `state` (`→ failed`) and before `close`. Not emitted for `abort()` or the `signal` (their
   * `close` carries an {@link AbortError}). Emitting it with no listener never throws.
   */
  error: (error: SttError) => void;
  /**
   * The stream is over: always the last event, exactly once, whether it ended (`end()`), was aborted
   * or failed. The payload is the {@link StreamSummary} that `end()` resolves with; `summary.error`
   * says why when it did not end normally; on `abort()` it is emitted before `abort()` returns.
   * The stream has closed its connection and cleared its timers.
   */
  close: (summary: StreamSummary) => void;
  /**
   * After a `write()` returned false, the queued audio (internal queue plus socket buffer) fell below
   * `highWaterMark`: writing may resume. Only while `connecting` or `open`; `pipeFrom()` waits for it.
   */
  drain: () => void;
  /**
   * Something was dropped or degraded without failing the stream ({@link StreamWarning}); today
   * `AUDIO_OVER_WINDOW` (audio over `replayWindowMs` dropped, counted in `droppedMs`), emitted from
   * inside the `write()` that dropped it: once per episode, and for every chunk larger than the window.
   */
  warning: (warning: StreamWarning) => void;
  /**
   * The stream moved to a new connection, opened ahead, at an utterance boundary (spec §9): after
   * `reconfigure()`, before a provider's stream limit (`rotation`), or back to a recovered
   * higher-priority provider (`switchback`). Emitted when the new connection takes over, between
   * utterances (or, `forced`, mid-utterance under the same `utteranceId`); no `state` or `open`
   * event accompanies it. See {@link HandoverEvent}.
   */
  handover: (event: HandoverEvent) => void;
}

/** One item of the stream's async iteration. An `error` is thrown by the iterator rather than yielded. */
export type RecognitionEvent =
  | ({
      /** A `state` event. */
      type: 'state';
    } & StateEvent)
  | ({
      /** An `open` event. */
      type: 'open';
    } & {
      /** Id of the provider whose connection is ready. */
      provider: string;
    })
  | {
      /** A `speechstart` event. */
      type: 'speechstart';
      /** The utterance that started. */
      utteranceId: number;
      /** Its start in the stream's audio timeline, ms. */
      startMs: number;
    }
  | Transcript
  | {
      /** A `speechend` event. */
      type: 'speechend';
      /** The utterance that ended (its final came just before). */
      utteranceId: number;
      /** Its end in the stream's audio timeline, ms. */
      endMs: number;
    }
  | {
      /** A `metrics` event. */
      type: 'metrics';
      /** The utterance's cost and latency. */
      metrics: UtteranceMetrics;
    }
  | ({
      /** A `reconnect` event. */
      type: 'reconnect';
    } & ReconnectEvent)
  | ({
      /** A `fallback` event. */
      type: 'fallback';
    } & FallbackEvent)
  | ({
      /** A `warning` event. */
      type: 'warning';
    } & StreamWarning)
  | ({
      /** A `handover` event. */
      type: 'handover';
    } & HandoverEvent)
  | {
      /** The `close` event: always the last item. */
      type: 'close';
      /** What the stream delivered (as `end()` resolves with). */
      summary: StreamSummary;
    };

/**
 * Lifecycle state of a stream: `connecting` (no connection serves it yet, or it is being
 * re-established), `open`, `ending` (after `end()`, until the last finals; recovery goes on
 * underneath), then `closed` (ended or aborted) or `failed` (gave up, see `error`). Each change is a
 * `state` event.
 */
export type StreamState = 'connecting' | 'open' | 'ending' | 'closed' | 'failed';

/** Options of `recognizer.stream()`. */
export interface StreamOptions {
  /** Format of the audio you write. Default `{ encoding: 'linear16', sampleRate: 16000 }`. */
  audio?: AudioFormat;
  /** BCP-47 language; default: the recognizer's `language`. */
  language?: string;
  /** Emit `partial` events. Default true. */
  interimResults?: boolean;
  /** Aborts the stream (as `abort()`) when it fires. */
  signal?: AbortSignal;
  /** Attach each provider message to transcripts as `raw`. Default false. */
  includeRaw?: boolean;
  /**
   * Audio kept after the last final for lossless recovery, ms; also the most audio the stream holds
   * unsent (more is dropped, see the `warning` event). At least 1000. Default: the recognizer's
   * `fallback.replayWindowMs` (30000).
   */
  replayWindowMs?: number;
  /**
   * Bytes of input audio queued (internal queue plus socket buffer) above which `write()` returns
   * false; an integer >= 1, at most the replay window (larger values act as the window). Default:
   * 2 s of the input format (32000 bytes for 8 kHz LINEAR16).
   */
  highWaterMark?: number;
  /**
   * How long `end()` waits for the provider's last finals and close, ms (1 to 600000); past it, a
   * provider with speech not yet final is recovered from like a stall. Default: the provider's
   * `capabilities.endTimeoutMs` (Whisper servers: seconds per model pass), else 5000.
   */
  endTimeoutMs?: number;
  /**
   * Keywords to boost in this stream, for every provider that takes keywords (RTZR: its `keywords`
   * handshake parameter, `'word'` or `[word, score]`, Hangul only; providers without per-stream
   * options ignore them). Replaces the provider's own `keywords` option for this stream. Change it
   * mid-call with `stream.reconfigure()`.
   * @throws {@link ConfigurationError} from `recognizer.stream()` when a provider rejects them.
   */
  keywords?: readonly KeywordOption[];
  /**
   * Decoder options for this stream by provider id, with the names of that provider's own options,
   * e.g. `{ rtzr: { epdTime: 0.8, useItn: false } }`. Only providers with
   * `Provider.checkSessionOptions` take them (RTZR: see docs/rtzr.md).
   * @throws {@link ConfigurationError} from `recognizer.stream()` for an unknown provider id, a
   * provider that takes no per-stream options, or an option the provider rejects.
   */
  providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}
