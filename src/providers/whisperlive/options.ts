/**
 * Options of `WhisperLiveProvider`: defaults and validation.
 *
 * Source of the protocol facts: collabora/WhisperLive `whisper_live/server.py`
 * and `backend/base.py` (options message, `SERVER_READY`, `WAIT`, `ERROR`,
 * `DISCONNECT`, `END_OF_AUDIO`, `--api_key`), https://github.com/collabora/WhisperLive.
 * @module
 */
import type { ConcurrencyOptions } from '../../coordination/budget.js';
import { checkBool, checkHeaders, checkInt, checkWsUrl, configError } from '../validate.js';

/** Bytes of one millisecond of float32 16 kHz mono audio. */
const FLOAT32_16K_BYTES_PER_MS = 64;

/** Options of `new WhisperLiveProvider()`. Every field is optional. */
export interface WhisperLiveProviderOptions extends ConcurrencyOptions {
  /** Provider id in events and metrics. Default `'whisperlive'`. */
  id?: string;
  /** Full WebSocket URL of the server (`ws:`/`wss:`). Default `ws://localhost:9090` (`run_server.py --port`). */
  url?: string;
  /**
   * The server's `--api_key`, sent as `Authorization: Bearer <key>` on the upgrade. Never
   * logged. Default: none.
   */
  apiKey?: string;
  /**
   * `model`: a size name (`tiny` … `large-v3`, `large-v3-turbo`), a CTranslate2 repo id or a path
   * on the server. Ignored by servers started with a fixed model (`-fw`). Default
   * `'large-v3-turbo'` (WhisperLive's own client defaults to `small`, too weak for Korean calls).
   */
  model?: string;
  /**
   * `language` (ISO 639-1, e.g. `'ko'`). Default: the primary subtag of the stream's BCP-47
   * language. `null` asks the server to detect it (it then sends `{language, language_prob}`).
   */
  language?: string | null;
  /** `task`. Default `'transcribe'`. */
  task?: 'transcribe' | 'translate';
  /** `use_vad` (faster-whisper's Silero `vad_filter`). Default true. */
  useVad?: boolean;
  /** `vad_parameters` passed to faster-whisper, e.g. `{ threshold: 0.5, min_silence_duration_ms: 500 }`. */
  vadParameters?: Record<string, number>;
  /** `initial_prompt`: Whisper prompt (domain words, style). */
  initialPrompt?: string;
  /** `hotwords` (faster-whisper), joined with commas when an array. */
  hotwords?: string | string[];
  /** `send_last_n_segments`: committed segments re-sent in each update. Server default 10. */
  sendLastNSegments?: number;
  /** `no_speech_thresh`: segments with a higher no-speech probability are dropped (0..1). Server default 0.45. */
  noSpeechThreshold?: number;
  /** `clip_audio`: drop audio that produced no segment for 25 s. Server default false. */
  clipAudio?: boolean;
  /** `same_output_threshold`: identical partials before a forced commit. Server default 10. */
  sameOutputThreshold?: number;
  /** `word_timestamps`: finals carry words with times. Default false. */
  wordTimestamps?: boolean;
  /** Duration of each binary frame sent, ms. Default 100 (6400 bytes; the server's limit is 1 MiB). */
  chunkMs?: number;
  /** Time allowed for `SERVER_READY` after the options message (the server may download a model), ms. Default 30000. */
  readyTimeoutMs?: number;
  /** Timeout of the WebSocket opening handshake, ms. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Silence sent by `end()` after the last audio, ms: the server runs a pass only over at least
   * 1 s of audio, and the padding also absorbs the network latency when `end()` decides that a pass
   * started after the server had all the speech. Default 1000.
   */
  endPaddingMs?: number;
  /**
   * During `end()`, after an update that came at least 1 s after the last audio, with nothing in
   * progress on the server: the shortest wait for another update before concluding that the server
   * heard no speech in what is left, ms. The wait is two model passes as observed during the
   * session when longer. Default 1000.
   */
  endSettleMs?: number;
  /**
   * How long the server may go without any result while speech is being sent, ms: the stream's
   * stall timeout unless `fallback.stallTimeoutMs` is set (`capabilities.stallTimeoutMs`). The
   * server transcribes in passes over at least 1 s of audio; the first result for new speech can
   * take the pass under way plus one more pass. Default 15000: a CPU server whose model pass takes
   * up to about 6 s (2 passes + 1 s of audio + margin). A GPU server answers within a second: 3000
   * detects a stalled one sooner.
   */
  stallTimeoutMs?: number;
  /**
   * How long `end()` may take to deliver the last finals, ms: the stream's end timeout unless the
   * stream sets `endTimeoutMs` (`capabilities.endTimeoutMs`). The server commits nothing on
   * `END_OF_AUDIO`, so `end()` waits for up to three model passes (the one under way, one that
   * reaches the end of the speech, one that confirms it). Default 20000 (passes up to about 6 s);
   * 5000 suits a GPU server.
   */
  endTimeoutMs?: number;
  /** Extra upgrade headers (a reverse proxy's). Never logged. */
  headers?: Record<string, string>;
  /** WebSocket ping interval while open, ms. Default 15000. */
  pingIntervalMs?: number;
}

/** Options after defaults and validation. @internal */
export interface ResolvedWhisperLiveOptions {
  id: string;
  url: string;
  apiKey?: string;
  model: string;
  language?: string | null;
  task: 'transcribe' | 'translate';
  useVad: boolean;
  vadParameters?: Record<string, number>;
  initialPrompt?: string;
  hotwords?: string;
  sendLastNSegments?: number;
  noSpeechThreshold?: number;
  clipAudio?: boolean;
  sameOutputThreshold?: number;
  wordTimestamps: boolean;
  chunkMs: number;
  maxFrameBytes: number;
  readyTimeoutMs: number;
  connectTimeoutMs: number;
  endPaddingMs: number;
  endSettleMs: number;
  stallTimeoutMs: number;
  endTimeoutMs: number;
  headers?: Record<string, string>;
  pingIntervalMs: number;
}

/**
 * Apply defaults and validate.
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) describing the first invalid option.
 */
export function resolveWhisperLiveOptions(options: WhisperLiveProviderOptions = {}): ResolvedWhisperLiveOptions {
  const id = options.id ?? 'whisperlive';
  if (typeof id !== 'string' || id === '') throw configError('whisperlive', 'id must be a non-empty string');
  const str = (name: string, v: unknown): void => {
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw configError(id, `${name} must be a non-empty string`);
  };
  str('apiKey', options.apiKey);
  str('model', options.model);
  str('initialPrompt', options.initialPrompt);
  if (options.language !== undefined && options.language !== null && !/^[a-z]{2,3}$/.test(options.language)) {
    throw configError(id, `language must be an ISO 639-1 code like "ko" or null for detection (got ${String(options.language)})`);
  }
  const task = options.task ?? 'transcribe';
  if (task !== 'transcribe' && task !== 'translate') throw configError(id, 'task must be "transcribe" or "translate"');
  let hotwords: string | undefined;
  if (Array.isArray(options.hotwords)) {
    if (options.hotwords.some((w) => typeof w !== 'string' || w.trim() === '')) throw configError(id, 'hotwords must be non-empty strings');
    hotwords = options.hotwords.join(',');
  } else if (options.hotwords !== undefined) {
    str('hotwords', options.hotwords);
    hotwords = options.hotwords;
  }
  if (options.vadParameters !== undefined) {
    const vp = options.vadParameters as unknown;
    if (typeof vp !== 'object' || vp === null || Array.isArray(vp) || Object.values(vp).some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
      throw configError(id, 'vadParameters must be an object of numbers');
    }
  }
  if (options.noSpeechThreshold !== undefined) {
    const t = options.noSpeechThreshold;
    if (typeof t !== 'number' || !(t >= 0 && t <= 1)) throw configError(id, 'noSpeechThreshold must be a number from 0 to 1');
  }
  const chunkMs = checkInt(id, 'chunkMs', options.chunkMs ?? 100, 10, 10_000);
  const resolved: ResolvedWhisperLiveOptions = {
    id,
    url: checkWsUrl(id, 'url', options.url ?? 'ws://localhost:9090'),
    model: options.model ?? 'large-v3-turbo',
    task,
    useVad: checkBool(id, 'useVad', options.useVad ?? true),
    wordTimestamps: checkBool(id, 'wordTimestamps', options.wordTimestamps ?? false),
    chunkMs,
    maxFrameBytes: chunkMs * FLOAT32_16K_BYTES_PER_MS,
    readyTimeoutMs: checkInt(id, 'readyTimeoutMs', options.readyTimeoutMs ?? 30_000, 1),
    connectTimeoutMs: checkInt(id, 'connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1),
    endPaddingMs: checkInt(id, 'endPaddingMs', options.endPaddingMs ?? 1000, 0, 10_000),
    endSettleMs: checkInt(id, 'endSettleMs', options.endSettleMs ?? 1000, 1, 60_000),
    stallTimeoutMs: checkInt(id, 'stallTimeoutMs', options.stallTimeoutMs ?? 15_000, 1, 600_000),
    endTimeoutMs: checkInt(id, 'endTimeoutMs', options.endTimeoutMs ?? 20_000, 1, 600_000),
    pingIntervalMs: checkInt(id, 'pingIntervalMs', options.pingIntervalMs ?? 15_000, 1),
  };
  if (options.apiKey !== undefined) resolved.apiKey = options.apiKey;
  if (options.language !== undefined) resolved.language = options.language;
  if (options.vadParameters !== undefined) resolved.vadParameters = { ...options.vadParameters };
  if (options.initialPrompt !== undefined) resolved.initialPrompt = options.initialPrompt;
  if (hotwords !== undefined) resolved.hotwords = hotwords;
  if (options.sendLastNSegments !== undefined) resolved.sendLastNSegments = checkInt(id, 'sendLastNSegments', options.sendLastNSegments, 1, 1000);
  if (options.noSpeechThreshold !== undefined) resolved.noSpeechThreshold = options.noSpeechThreshold;
  if (options.clipAudio !== undefined) resolved.clipAudio = checkBool(id, 'clipAudio', options.clipAudio);
  if (options.sameOutputThreshold !== undefined) {
    resolved.sameOutputThreshold = checkInt(id, 'sameOutputThreshold', options.sameOutputThreshold, 1, 1000);
  }
  const headers = checkHeaders(id, options.headers);
  if (headers) resolved.headers = headers;
  return resolved;
}
