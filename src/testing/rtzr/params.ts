/**
 * Validation of the `/v1/transcribe:streaming` query string (RTZR's
 * DecoderConfig and RuntimeStreamConfig as query parameters).
 * @module
 * @internal
 */

/** Encodings the emulator decodes. */
export type RtzrWireEncoding = 'LINEAR16' | 'MULAW' | 'ALAW';

/** The streaming configuration the emulator uses. */
export interface RtzrStreamConfig {
  sampleRate: number;
  encoding: RtzrWireEncoding;
  /** End-point silence, in ms (`epd_time` seconds × 1000; default 500). */
  epdMs: number;
  /** Forced split, in ms (`max_utter_duration` seconds × 1000; default 12000). */
  maxUtterMs: number;
}

/** Result of {@link parseStreamingParams}: a config, or the 400 `H0001` message. */
export type ParamsResult = { ok: true; config: RtzrStreamConfig } | { ok: false; msg: string };

const DECODED = new Set<string>(['LINEAR16', 'MULAW', 'ALAW']);
const NOT_DECODED = new Set<string>(['FLAC', 'AMR', 'AMR_WB', 'OGG_OPUS', 'OPUS']);
const MODELS = new Set<string>(['sommers_ko', 'sommers_ja', 'sommers_en', 'whisper']);
const DOMAINS = new Set<string>(['CALL', 'MEETING']);
const BOOLEANS = ['use_itn', 'use_disfluency_filter', 'use_profanity_filter', 'use_punctuation'] as const;
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function checkKeywords(value: string): string | undefined {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length > 100) return `keywords: at most 100 words, got ${items.length}`;
  for (const item of items) {
    const colon = item.lastIndexOf(':');
    const word = colon >= 0 ? item.slice(0, colon).trim() : item;
    if (word.length === 0) return `keywords: empty word in ${JSON.stringify(item)}`;
    if ([...word].length > 20) return `keywords: ${JSON.stringify(word)} is longer than 20 characters`;
    if (colon >= 0) {
      const scoreText = item.slice(colon + 1).trim();
      const score = Number(scoreText);
      if (!FLOAT_RE.test(scoreText) || score < -5 || score > 5) {
        return `keywords: score of ${JSON.stringify(word)} must be a number from -5.0 to 5.0`;
      }
    }
  }
  return undefined;
}

/** Validate the query of a streaming upgrade. Unknown parameters are ignored. */
export function parseStreamingParams(query: URLSearchParams): ParamsResult {
  const rate = query.get('sample_rate');
  if (rate === null) return { ok: false, msg: 'sample_rate is required' };
  const sampleRate = Number(rate);
  if (!INT_RE.test(rate) || sampleRate < 8000 || sampleRate > 48000) {
    return { ok: false, msg: 'sample_rate must be an integer from 8000 to 48000' };
  }
  const encoding = query.get('encoding');
  if (encoding === null) return { ok: false, msg: 'encoding is required' };
  if (NOT_DECODED.has(encoding)) return { ok: false, msg: `encoding ${encoding} is valid for RTZR but the emulator does not decode it (use LINEAR16, MULAW or ALAW)` };
  if (!DECODED.has(encoding)) return { ok: false, msg: `unsupported encoding ${JSON.stringify(encoding)}` };
  const model = query.get('model_name');
  if (model !== null && !MODELS.has(model)) return { ok: false, msg: `unknown model_name ${JSON.stringify(model)}` };
  const domain = query.get('domain');
  if (domain !== null && !DOMAINS.has(domain)) return { ok: false, msg: `domain must be CALL or MEETING` };
  for (const name of BOOLEANS) {
    const v = query.get(name);
    if (v !== null && v !== 'true' && v !== 'false') return { ok: false, msg: `${name} must be true or false` };
  }
  let epdMs = 500;
  const epd = query.get('epd_time');
  if (epd !== null) {
    const v = Number(epd);
    if (!FLOAT_RE.test(epd) || !(v > 0)) return { ok: false, msg: 'epd_time must be a number of seconds > 0' };
    epdMs = v * 1000;
  }
  let maxUtterMs = 12000;
  const maxUtter = query.get('max_utter_duration');
  if (maxUtter !== null) {
    const v = Number(maxUtter);
    if (!INT_RE.test(maxUtter) || v <= 0) return { ok: false, msg: 'max_utter_duration must be an integer number of seconds > 0' };
    maxUtterMs = v * 1000;
  }
  for (const name of ['noise_threshold', 'active_threshold'] as const) {
    const v = query.get(name);
    if (v !== null && !FLOAT_RE.test(v)) return { ok: false, msg: `${name} must be a number` };
  }
  const keywords = query.get('keywords');
  if (keywords !== null) {
    const err = checkKeywords(keywords);
    if (err) return { ok: false, msg: err };
  }
  return { ok: true, config: { sampleRate, encoding: encoding as RtzrWireEncoding, epdMs, maxUtterMs } };
}
