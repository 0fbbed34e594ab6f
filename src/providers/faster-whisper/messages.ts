/**
 * Frames of the Faster-Whisper chunk server (the seeds' `realtime_server.py`
 * pattern): each reply is one JSON text frame `{"text": "…"}`; there is no id,
 * timestamp or final flag. Some variants add an `error` field on failure.
 * @module
 * @internal
 */
import { ProviderError } from '../../errors/index.js';

/**
 * Parse one text frame into the transcription text.
 * @throws {@link ProviderError} for a frame that is not a JSON object with a string `text`, or that
 * carries an `error`.
 */
export function parseReply(provider: string, frame: string): { text: string; raw: Record<string, unknown> } {
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
  return { text: o.text, raw: o };
}
