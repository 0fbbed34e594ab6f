/**
 * The emulator's "recognizer": validates a `speech:recognize` body, decodes its
 * audio, finds the utterances in it with the energy endpointer, and answers
 * each with the next line of the script.
 * @module
 * @internal
 */
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { decodeMulaw } from '../../audio/g711.js';
import type { ScriptCursor } from '../script-cursor.js';

/** A validation failure: HTTP 400 INVALID_ARGUMENT with this message. */
export class InvalidArgument extends Error {}

export interface ParsedRequest {
  config: Record<string, unknown>;
  encoding: 'LINEAR16' | 'MULAW';
  sampleRate: number;
  languageCode: string;
  audio: Uint8Array;
}

/** Validate the body the way the REST API does (the fields this emulator supports). */
export function parseRecognizeBody(text: string): ParsedRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidArgument('Invalid JSON payload received.');
  }
  const o = (body ?? {}) as { config?: Record<string, unknown>; audio?: Record<string, unknown> };
  const config = o.config;
  if (!config || typeof config !== 'object') throw new InvalidArgument('RecognitionConfig is required.');
  const encoding = config.encoding;
  if (encoding !== 'LINEAR16' && encoding !== 'MULAW') {
    throw new InvalidArgument(`Invalid recognition 'config': unsupported encoding ${JSON.stringify(encoding)} (emulator decodes LINEAR16 and MULAW).`);
  }
  const sampleRate = config.sampleRateHertz;
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 48000) {
    throw new InvalidArgument('Invalid recognition \'config\': sample_rate_hertz must be 8000-48000.');
  }
  if (typeof config.languageCode !== 'string' || config.languageCode === '') {
    throw new InvalidArgument('Invalid recognition \'config\': language_code is required.');
  }
  const audio = o.audio;
  if (!audio || typeof audio.content !== 'string' || 'uri' in audio) {
    throw new InvalidArgument('RecognitionAudio must set exactly one of content or uri (content only here).');
  }
  const bytes = Buffer.from(audio.content, 'base64');
  const bytesPerSecond = sampleRate * (encoding === 'LINEAR16' ? 2 : 1);
  if (bytes.length > bytesPerSecond * 60) {
    throw new InvalidArgument('Sync input too long. For audio longer than 1 min use LongRunningRecognize with a \'uri\' parameter.');
  }
  if (encoding === 'LINEAR16' && bytes.length % 2 !== 0) throw new InvalidArgument('LINEAR16 audio has an odd byte count.');
  return { config, encoding, sampleRate, languageCode: config.languageCode, audio: new Uint8Array(bytes) };
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(3)}s`;

/**
 * Build the response: one result per detected utterance, texts from the script.
 * @param ahead - script lines already handed to requests still being answered (they come first).
 */
export function recognize(req: ParsedRequest, cursor: ScriptCursor, ahead = 0): { body: Record<string, unknown>; lines: number } {
  const pcm =
    req.encoding === 'MULAW'
      ? decodeMulaw(req.audio)
      : new Int16Array(req.audio.buffer, req.audio.byteOffset, req.audio.byteLength / 2);
  const ep = new Endpointer({ sampleRate: req.sampleRate, silenceMs: 500 });
  const events: EndpointerEvent[] = [...ep.push(pcm), ...ep.flush()];
  const results: Record<string, unknown>[] = [];
  let lines = 0;
  for (const ev of events) {
    if (ev.type !== 'voiceend') continue;
    const text = cursor.peek(ahead + lines++);
    const words = text.split(/\s+/).filter(Boolean);
    const span = Math.max(1, ev.endMs - ev.startMs);
    const step = span / Math.max(1, words.length);
    results.push({
      alternatives: [
        {
          transcript: text,
          confidence: 0.9,
          words: words.map((w, i) => ({
            word: w,
            startTime: secs(ev.startMs + i * step),
            endTime: secs(ev.startMs + (i + 1) * step),
          })),
        },
      ],
      resultEndTime: secs(ev.endMs),
      languageCode: req.languageCode.toLowerCase(),
    });
  }
  const billed = Math.ceil((pcm.length / req.sampleRate) / 15) * 15;
  return { body: { results, totalBilledTime: `${billed}s`, requestId: String(Date.now()) }, lines };
}
