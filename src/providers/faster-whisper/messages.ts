/**
 * Frames of the Faster-Whisper chunk server (the seeds' `realtime_server.py`
 * pattern): each reply is one JSON text frame `{"text": "…"}`; there is no id
 * or final flag. Some variants add an `error` field on failure. Our reference
 * server (examples/faster-whisper/server.py) also sends the segments with
 * their times, and word times (faster-whisper's `word_timestamps=True`), in
 * seconds from the start of the chunk:
 * `{"text", "segments": [{"start", "end", "text", "words"?: [{"word", "start", "end", "probability"}]}]}`.
 * @module
 * @internal
 */
import { ProviderError } from '../../errors/index.js';

/** A word of a reply, times in ms from the start of the chunk. */
export interface ReplyWordTime {
  text: string;
  start: number;
  end: number;
  probability?: number;
}

/** A segment of a reply, times in ms from the start of the chunk. */
export interface ReplySegment {
  start: number;
  end: number;
  text: string;
  words?: ReplyWordTime[];
}

/** Seconds (number or numeric string) → ms; NaN otherwise. */
function ms(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n * 1000 : Number.NaN;
}

/** The segments of a reply when every one carries valid times, else undefined (the reply is then text only). */
function parseSegments(v: unknown): ReplySegment[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ReplySegment[] = [];
  for (const s of v as unknown[]) {
    if (!s || typeof s !== 'object') return undefined;
    const o = s as Record<string, unknown>;
    const start = ms(o.start);
    const end = ms(o.end);
    if (typeof o.text !== 'string' || Number.isNaN(start) || Number.isNaN(end) || end < start) return undefined;
    const seg: ReplySegment = { start, end, text: o.text };
    if (Array.isArray(o.words)) {
      const words: ReplyWordTime[] = [];
      for (const w of o.words as unknown[]) {
        const wo = (w ?? {}) as Record<string, unknown>;
        const ws = ms(wo.start);
        const we = ms(wo.end);
        if (typeof wo.word !== 'string' || Number.isNaN(ws) || Number.isNaN(we) || we < ws) return undefined;
        words.push({ text: wo.word, start: ws, end: we, ...(typeof wo.probability === 'number' ? { probability: wo.probability } : {}) });
      }
      seg.words = words;
    }
    out.push(seg);
  }
  return out;
}

/**
 * Parse one text frame into the transcription text.
 * @throws {@link ProviderError} for a frame that is not a JSON object with a string `text`, or that
 * carries an `error`.
 */
export function parseReply(
  provider: string,
  frame: string,
): { text: string; raw: Record<string, unknown>; segments?: ReplySegment[] } {
  let msg: unknown;
  try {
    msg = JSON.parse(frame);
  } catch {
    throw new ProviderError('Faster-Whisper server sent a frame that is not JSON', { provider });
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) {
    throw new ProviderError('Faster-Whisper server sent a frame that is not a JSON object', { provider });
  }
  const o = msg as Record<string, unknown>;
  if (typeof o.error === 'string' || (o.error && typeof o.error === 'object')) {
    const detail = typeof o.error === 'string' ? o.error : JSON.stringify(o.error);
    throw new ProviderError(`Faster-Whisper server error: ${detail.slice(0, 200)}`, { provider });
  }
  if (typeof o.text !== 'string') {
    throw new ProviderError('Faster-Whisper reply lacks a string "text"', { provider });
  }
  const segments = parseSegments(o.segments);
  return segments ? { text: o.text, raw: o, segments } : { text: o.text, raw: o };
}
