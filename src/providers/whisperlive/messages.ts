/**
 * WhisperLive wire messages.
 *
 * Client → server: one JSON options message (`uid`, `language`, `task`,
 * `model` must be present, `language` may be null), then float32 audio as
 * binary frames, then the bytes `END_OF_AUDIO` as a binary frame.
 * Server → client (all JSON, all with `uid`): `{message: "SERVER_READY",
 * backend}`, `{status: "WAIT", message: minutes}`, `{status: "ERROR",
 * message}`, `{status: "WARNING", message}`, `{language, language_prob}`,
 * `{segments: [{start, end, text, completed, words?}]}` (times are strings of
 * seconds), `{message: "DISCONNECT"}`.
 * Source: collabora/WhisperLive server.py, backend/base.py, client.py.
 * @module
 * @internal
 */
import { ProviderError } from '../../errors/index.js';
import type { ResolvedWhisperLiveOptions } from './options.js';

/** The binary frame that ends the audio (compared as bytes by the server). */
export const END_OF_AUDIO = Buffer.from('END_OF_AUDIO', 'ascii');

/** A segment as the server sends it. */
export interface RawSegment {
  start: number;
  end: number;
  text: string;
  /** Absent on servers older than v0.6.0. */
  completed?: boolean;
  words?: { word: string; start: number; end: number; probability?: number }[];
}

/** A parsed server message. */
export type ServerMessage =
  | { kind: 'ready'; backend?: string }
  | { kind: 'wait'; minutes: number }
  | { kind: 'error'; message: string }
  | { kind: 'warning'; message: string }
  | { kind: 'language'; language: string; probability?: number }
  | { kind: 'segments'; segments: RawSegment[] }
  | { kind: 'disconnect' }
  | { kind: 'ignored' };

/** The options message of a session. */
export function buildOptionsMessage(o: ResolvedWhisperLiveOptions, uid: string, language: string | null): Record<string, unknown> {
  const m: Record<string, unknown> = {
    uid,
    language,
    task: o.task,
    model: o.model,
    use_vad: o.useVad,
    audio_format: 'float32',
  };
  if (o.vadParameters) m.vad_parameters = o.vadParameters;
  if (o.initialPrompt !== undefined) m.initial_prompt = o.initialPrompt;
  if (o.hotwords !== undefined) m.hotwords = o.hotwords;
  if (o.sendLastNSegments !== undefined) m.send_last_n_segments = o.sendLastNSegments;
  if (o.noSpeechThreshold !== undefined) m.no_speech_thresh = o.noSpeechThreshold;
  if (o.clipAudio !== undefined) m.clip_audio = o.clipAudio;
  if (o.sameOutputThreshold !== undefined) m.same_output_threshold = o.sameOutputThreshold;
  if (o.wordTimestamps) m.word_timestamps = true;
  return m;
}

/** Seconds as a string ("12.340") or number → ms; NaN when neither. */
function seconds(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n * 1000 : Number.NaN;
}

function parseSegment(provider: string, s: unknown): RawSegment {
  if (!s || typeof s !== 'object') throw new ProviderError('WhisperLive sent a segment that is not an object', { provider });
  const o = s as Record<string, unknown>;
  const start = seconds(o.start);
  const end = seconds(o.end);
  if (typeof o.text !== 'string' || Number.isNaN(start) || Number.isNaN(end)) {
    throw new ProviderError('WhisperLive sent a segment without text/start/end', { provider });
  }
  const seg: RawSegment = { start, end, text: o.text };
  if (typeof o.completed === 'boolean') seg.completed = o.completed;
  if (Array.isArray(o.words)) {
    seg.words = [];
    for (const w of o.words as Record<string, unknown>[]) {
      const ws = seconds(w?.start);
      const we = seconds(w?.end);
      if (typeof w?.word !== 'string' || Number.isNaN(ws) || Number.isNaN(we)) continue;
      seg.words.push({ word: w.word, start: ws, end: we, ...(typeof w.probability === 'number' ? { probability: w.probability } : {}) });
    }
  }
  return seg;
}

/**
 * Parse one text frame. Messages for another `uid` are `ignored`.
 * @throws {@link ProviderError} for a frame that is not a JSON object or has malformed segments.
 */
export function parseServerMessage(provider: string, frame: string, uid: string): ServerMessage {
  let msg: unknown;
  try {
    msg = JSON.parse(frame);
  } catch {
    throw new ProviderError('WhisperLive sent a frame that is not JSON', { provider });
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new ProviderError('WhisperLive sent a frame that is not a JSON object', { provider });
  }
  const o = msg as Record<string, unknown>;
  if (typeof o.uid === 'string' && o.uid !== uid) return { kind: 'ignored' };
  const text = (v: unknown): string => (typeof v === 'string' ? v.slice(0, 300) : JSON.stringify(v ?? null).slice(0, 300));
  if (o.status === 'WAIT') return { kind: 'wait', minutes: typeof o.message === 'number' ? o.message : Number(o.message) || 0 };
  if (o.status === 'ERROR') return { kind: 'error', message: text(o.message) };
  if (o.status === 'WARNING') return { kind: 'warning', message: text(o.message) };
  if (o.message === 'SERVER_READY') return typeof o.backend === 'string' ? { kind: 'ready', backend: o.backend } : { kind: 'ready' };
  if (o.message === 'DISCONNECT') return { kind: 'disconnect' };
  if (Array.isArray(o.segments)) return { kind: 'segments', segments: o.segments.map((s) => parseSegment(provider, s)) };
  if (typeof o.language === 'string') {
    return typeof o.language_prob === 'number'
      ? { kind: 'language', language: o.language, probability: o.language_prob }
      : { kind: 'language', language: o.language };
  }
  return { kind: 'ignored' };
}
