/**
 * Parse RTZR streaming result frames.
 *
 * `{seq, start_at, duration, final, alternatives: [{text, confidence, words?}]}`; times in ms;
 * `duration` is 0 on interim results; `words` (finals only) sit inside the alternative and
 * their `start_at` is relative to the utterance start.
 * Source: https://developers.rtzr.ai/docs/en/stt-streaming/websocket (Response) and the KR page.
 * @module
 */
import { ProviderError } from '../../errors/index.js';
import type { ProviderResult } from '../provider.js';

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
 * @internal
 */
export function parseRtzrFrame(
  provider: string,
  text: string,
  sentMs: number,
  includeRaw: boolean,
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
  if (o.type === 'error' || 'error' in o) {
    const detail = typeof o.message === 'string' ? o.message : typeof o.error === 'string' ? o.error : 'error frame';
    throw new ProviderError(`RTZR error: ${detail.slice(0, 200)}`, { provider });
  }
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
    result.words = (best.words as RawWord[])
      .filter((w) => typeof w.text === 'string' && isNum(w.start_at))
      .map((w) => {
        const ws = startMs + (w.start_at as number);
        const word = {
          text: (w.text as string).replace(/^\|/, ''),
          startMs: ws,
          endMs: ws + (isNum(w.duration) ? w.duration : 0),
        };
        return isNum(w.confidence) ? { ...word, confidence: w.confidence } : word;
      });
  }
  if (includeRaw) result.raw = msg;
  return result;
}
