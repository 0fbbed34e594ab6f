/**
 * Options of `FasterWhisperProvider`: defaults and validation.
 *
 * The server protocol (the seeds' `realtime_server.py` pattern, see
 * docs/faster-whisper.md): float32 LE 16 kHz mono binary frames in; the
 * server buffers `chunk_duration` seconds, transcribes them, keeps the last
 * `overlap_duration` seconds as the start of the next chunk, and answers each
 * chunk with one `{"text": "…"}` text frame. The client has to know the two
 * durations to map replies to audio time, so they are options here and must
 * match the server's flags.
 * @module
 */
import type { ConcurrencyOptions } from '../../coordination/budget.js';
import { checkBool, checkHeaders, checkInt, checkWsUrl, configError } from '../validate.js';
import { DEFAULT_WHISPER_HALLUCINATIONS } from './hallucinations.js';

/** Bytes of one millisecond of float32 16 kHz mono audio. */
export const FLOAT32_16K_BYTES_PER_MS = 64;

/** Options of the provider's own endpointer (it decides utterances; the server cannot). */
export interface FasterWhisperEndpointing {
  /** Trailing silence that ends an utterance, ms. Default 500. */
  silenceMs?: number;
  /** Voiced time needed to start an utterance, ms. Default 60. */
  minSpeechMs?: number;
  /** Fixed speech threshold, dBFS. Default: adaptive (noise floor + 12 dB, at least −50 dBFS). */
  thresholdDb?: number;
  /** Force-split utterances longer than this, ms (0: never). Default 12000. */
  maxUtteranceMs?: number;
}

/** Options of `new FasterWhisperProvider()`. Every field is optional. */
export interface FasterWhisperProviderOptions extends ConcurrencyOptions {
  /** Provider id in events and metrics. Default `'faster-whisper'`. */
  id?: string;
  /** Full WebSocket URL of the server (`ws:` or `wss:`). Default `ws://localhost:8765`. */
  url?: string;
  /**
   * The server's `chunk_duration`, ms: audio transcribed per reply. Must match the server
   * (reference server flag `--chunk-duration`, seconds). Default 2000. Range 200–30000.
   */
  chunkDurationMs?: number;
  /**
   * The server's `overlap_duration`, ms: audio of a chunk repeated at the start of the next one.
   * Must match the server (`--overlap-duration`). Default 500. `0 <= overlap < chunkDurationMs`.
   */
  overlapDurationMs?: number;
  /**
   * Duration of each binary frame sent, ms. Default 100 (6400 bytes). The frame must fit the
   * server's message size limit ({@link maxMessageBytes}): 1 ms of float32 16 kHz is 64 bytes.
   */
  chunkMs?: number;
  /**
   * The server's largest accepted message, bytes. Python `websockets` defaults to 1 MiB
   * (`max_size=1048576`, https://websockets.readthedocs.io/), i.e. about 16.3 s of audio.
   * Frames (and silence padding) are split to stay under it. Default 1048576.
   */
  maxMessageBytes?: number;
  /**
   * Stock phrases Whisper produces on silence, removed wherever they appear in a reply: strings
   * (matched on whole words, ignoring case, punctuation and spacing) or regular expressions.
   * Default {@link DEFAULT_WHISPER_HALLUCINATIONS}; pass `[]` to keep everything, or extend the
   * default: `[...DEFAULT_WHISPER_HALLUCINATIONS, '제 채널']`.
   */
  hallucinations?: readonly (string | RegExp)[];
  /** The provider's endpointer, which closes utterances into finals. */
  endpointing?: FasterWhisperEndpointing;
  /**
   * Longest run of words looked for when removing the words a reply repeats from the previous
   * one (the overlap). Default 10.
   */
  maxOverlapWords?: number;
  /**
   * On `finalize()`, send silence so the server transcribes the chunk holding the end of the
   * utterance at once (the protocol has no flush command). The silence shifts the server's
   * timeline; result times stay stream-absolute. Default true.
   */
  padOnFinalize?: boolean;
  /** Extra headers of the upgrade request (a reverse proxy's auth). Never logged. */
  headers?: Record<string, string>;
  /** Timeout of the WebSocket opening handshake, ms. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * How long the server may go without a reply carrying words while speech is being sent, ms
   * (`capabilities.stallTimeoutMs`: the stream's stall timeout unless `fallback.stallTimeoutMs` is
   * set). New speech is answered once its chunk is full (up to `chunkDurationMs` of audio) and
   * transcribed. Default `chunkDurationMs + 6000`: room for a CPU model taking several seconds
   * per chunk; a GPU server answers within a few hundred ms.
   */
  stallTimeoutMs?: number;
  /**
   * How long `end()` may take, ms (`capabilities.endTimeoutMs`: the stream's end timeout unless
   * the stream sets `endTimeoutMs`): the padding completes the last chunk at once, then every
   * chunk not answered yet must be transcribed. Default `chunkDurationMs + 6000`.
   */
  endTimeoutMs?: number;
  /** WebSocket ping interval while open, ms. Default 15000. */
  pingIntervalMs?: number;
}

/** Options after defaults and validation. @internal */
export interface ResolvedFasterWhisperOptions {
  id: string;
  url: string;
  chunkDurationMs: number;
  overlapDurationMs: number;
  chunkMs: number;
  maxMessageBytes: number;
  hallucinations: readonly (string | RegExp)[];
  endpointing: Required<Omit<FasterWhisperEndpointing, 'thresholdDb'>> & { thresholdDb?: number };
  maxOverlapWords: number;
  padOnFinalize: boolean;
  headers: Record<string, string> | undefined;
  connectTimeoutMs: number;
  stallTimeoutMs: number;
  endTimeoutMs: number;
  pingIntervalMs: number;
}

/**
 * Apply defaults and validate.
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) describing the first invalid option.
 */
export function resolveFasterWhisperOptions(options: FasterWhisperProviderOptions = {}): ResolvedFasterWhisperOptions {
  const id = options.id ?? 'faster-whisper';
  if (typeof id !== 'string' || id === '') throw configError('faster-whisper', 'id must be a non-empty string');
  const url = checkWsUrl(id, 'url', options.url ?? 'ws://localhost:8765');
  const chunkDurationMs = checkInt(id, 'chunkDurationMs', options.chunkDurationMs ?? 2000, 200, 30_000);
  const overlapDurationMs = checkInt(id, 'overlapDurationMs', options.overlapDurationMs ?? 500, 0, chunkDurationMs - 1);
  const maxMessageBytes = checkInt(id, 'maxMessageBytes', options.maxMessageBytes ?? 1_048_576, 4096);
  const maxChunkMs = Math.min(10_000, Math.floor(maxMessageBytes / FLOAT32_16K_BYTES_PER_MS));
  const chunkMs = checkInt(id, `chunkMs (frames must fit maxMessageBytes ${maxMessageBytes})`, options.chunkMs ?? 100, 10, maxChunkMs);
  const hallucinations = options.hallucinations ?? DEFAULT_WHISPER_HALLUCINATIONS;
  if (!Array.isArray(hallucinations) || hallucinations.some((h) => typeof h !== 'string' && !(h instanceof RegExp))) {
    throw configError(id, 'hallucinations must be an array of strings and regular expressions');
  }
  const ep = options.endpointing ?? {};
  const endpointing: ResolvedFasterWhisperOptions['endpointing'] = {
    silenceMs: checkInt(id, 'endpointing.silenceMs', ep.silenceMs ?? 500, 50, 10_000),
    minSpeechMs: checkInt(id, 'endpointing.minSpeechMs', ep.minSpeechMs ?? 60, 0, 2000),
    maxUtteranceMs: checkInt(id, 'endpointing.maxUtteranceMs', ep.maxUtteranceMs ?? 12_000, 0, 600_000),
  };
  if (ep.thresholdDb !== undefined) {
    if (typeof ep.thresholdDb !== 'number' || !Number.isFinite(ep.thresholdDb) || ep.thresholdDb > 0) {
      throw configError(id, 'endpointing.thresholdDb must be a number of dBFS (<= 0)');
    }
    endpointing.thresholdDb = ep.thresholdDb;
  }
  const padOnFinalize = checkBool(id, 'padOnFinalize', options.padOnFinalize ?? true);
  return {
    id,
    url,
    chunkDurationMs,
    overlapDurationMs,
    chunkMs,
    maxMessageBytes,
    hallucinations,
    endpointing,
    maxOverlapWords: checkInt(id, 'maxOverlapWords', options.maxOverlapWords ?? 10, 1, 100),
    padOnFinalize,
    headers: checkHeaders(id, options.headers),
    connectTimeoutMs: checkInt(id, 'connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1),
    stallTimeoutMs: checkInt(id, 'stallTimeoutMs', options.stallTimeoutMs ?? chunkDurationMs + 6000, 1, 600_000),
    endTimeoutMs: checkInt(id, 'endTimeoutMs', options.endTimeoutMs ?? chunkDurationMs + 6000, 1, 600_000),
    pingIntervalMs: checkInt(id, 'pingIntervalMs', options.pingIntervalMs ?? 15_000, 1),
  };
}
