/**
 * Parse RTZR streaming result frames.
 *
 * `{seq, start_at, duration, final, alternatives: [{text, confidence, words?}]}`; times in ms;
 * `duration` is 0 on interim results; `words` (finals only) sit inside the alternative, their
 * `start_at` relative to the utterance start or to the connection's audio (both conventions are
 * documented: see `word-times.ts`).
 * Source: https://developers.rtzr.ai/docs/en/stt-streaming/websocket (Response) and the KR page.
 * @module
 */
import { ProviderError, RateLimitError } from '../../errors/index.js';
import type { ProviderResult } from '../provider.js';
import { WordTimeReader } from './word-times.js';

interface RawWord {
  text?: unknown;
  start_at?: unknown;
  duration?: unknown;
  confidence?: unknown;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Turn one text frame into a result, `undefined` for frames to ignore, or throw a
 * {@link ProviderError} for a malformed or error frame.
 * @param sentMs - audio sent on this connection so far, ms (end of a partial when RTZR gives no duration).
 * @param wordTimes - the connection's reader of word times (it remembers the convention seen).
 * @internal
 */
export function parseRtzrFrame(
  provider: string,
  text: string,
  sentMs: number,
  includeRaw: boolean,
  wordTimes: WordTimeReader = new WordTimeReader(),
): ProviderResult | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw new ProviderError('RTZR sent a frame that is not JSON', { provider });
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new ProviderError('RTZR sent a frame that is not a JSON object', { provider });
  }
  const o = msg as Record<string, unknown>;
  if (o.type === 'error' || 'error' in o) throw rtzrErrorFrame(provider, o);
  if (!Number.isInteger(o.seq) || !isNum(o.start_at) || typeof o.final !== 'boolean') {
    throw new ProviderError('RTZR result frame lacks seq/start_at/final', { provider });
  }
  const alternatives = Array.isArray(o.alternatives) ? (o.alternatives as Record<string, unknown>[]) : [];
  const best = alternatives[0] ?? {};
  const textOut = typeof best.text === 'string' ? best.text : '';
  const startMs = o.start_at;
  const duration = isNum(o.duration) ? o.duration : 0;
  const endMs = duration > 0 ? startMs + duration : Math.max(startMs, sentMs);
  const result: ProviderResult = {
    type: o.final ? 'final' : 'partial',
    segment: o.seq as number,
    text: textOut,
    startMs,
    endMs,
  };
  if (isNum(best.confidence)) result.confidence = best.confidence;
  if (o.final && Array.isArray(best.words)) {
    const raw = (best.words as RawWord[]).filter((w) => typeof w.text === 'string' && isNum(w.start_at));
    const times = wordTimes.read(
      raw.map((w) => ({ text: w.text as string, start_at: w.start_at as number, duration: isNum(w.duration) ? w.duration : 0 })),
      startMs,
      duration,
    );
    result.words = raw.map((w, i) => {
      const word = { text: (w.text as string).replace(/^\|/, ''), startMs: times[i]!.start, endMs: times[i]!.end };
      return isNum(w.confidence) ? { ...word, confidence: w.confidence } : word;
    });
  }
  if (includeRaw) result.raw = msg;
  return result;
}

/** RTZR error codes (`{code, msg}`) that say the request itself is wrong: retrying gets the same answer. */
const PERMANENT_CODES = /^H\d{4}$|^A0001$/;

/**
 * The error an error frame carries. RTZR documents none; LiveKit's plugin watches for an `error`
 * key or `type: "error"` with `message`. Transient unless the frame says otherwise: `retryable:
 * false`, or an RTZR code of a rejected request (`H0001`-style 4xx codes, `A0001` quota used up);
 * `A0002` (concurrency) is a `RateLimitError`.
 */
function rtzrErrorFrame(provider: string, o: Record<string, unknown>): ProviderError | RateLimitError {
  const err = o.error && typeof o.error === 'object' ? (o.error as Record<string, unknown>) : {};
  const detail =
    typeof o.message === 'string' ? o.message : typeof o.error === 'string' ? o.error : typeof err.message === 'string' ? err.message : 'error frame';
  const code = typeof o.code === 'string' ? o.code : typeof err.code === 'string' ? err.code : undefined;
  const flag = typeof o.retryable === 'boolean' ? o.retryable : typeof err.retryable === 'boolean' ? err.retryable : undefined;
  const base = { provider, ...(code ? { providerCode: code } : {}) };
  const message = `RTZR error${code ? ` ${code}` : ''}: ${detail.slice(0, 200)}`;
  if (code === 'A0002') return new RateLimitError(message, { ...base, ...(flag === undefined ? {} : { retryable: flag }) });
  return new ProviderError(message, { ...base, retryable: flag ?? !(code !== undefined && PERMANENT_CODES.test(code)) });
}
