/**
 * One REST v1 `speech:recognize` call: request body, response parsing, and
 * `google.rpc.Status` errors mapped to typed errors.
 * Sources: https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize,
 * https://cloud.google.com/apis/design/errors (HTTP mapping).
 * @module
 */
import type { Dispatcher } from 'undici';
import { request, timeoutSignal } from '../../transport/http.js';
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  type SttError,
  TimeoutError,
  isSttError,
} from '../../errors/index.js';
import { isTransientStatus } from '../../transport/http-status.js';
import { parseRetryAfter } from '../../transport/retry-after.js';

/** @internal */
export interface RecognizeConfig {
  encoding: 'LINEAR16' | 'MULAW';
  sampleRateHertz: number;
  languageCode: string;
  model?: string;
  useEnhanced?: boolean;
  enableAutomaticPunctuation: boolean;
  maxAlternatives: number;
  enableWordTimeOffsets: true;
}

/** @internal */
export interface RecognizedText {
  text: string;
  confidence?: number;
  words: { text: string; startMs: number; endMs: number; confidence?: number }[];
  language?: string;
  raw: unknown;
}

/** `"1.200s"` → 1200. @internal */
export function durationMs(v: unknown): number {
  if (typeof v === 'string' && v.endsWith('s')) {
    const n = Number(v.slice(0, -1));
    if (Number.isFinite(n)) return Math.round(n * 1000);
  }
  if (v && typeof v === 'object') {
    const o = v as { seconds?: unknown; nanos?: unknown };
    return Math.round(Number(o.seconds ?? 0) * 1000 + Number(o.nanos ?? 0) / 1e6);
  }
  return 0;
}

/**
 * Map an HTTP error reply to a typed error: 401/403 → AuthenticationError (permanent), 429 →
 * RateLimitError (transient, `retryAfterMs` from `Retry-After`), 400/404 → ConfigurationError
 * (permanent: the request or the model is rejected), 408/425/5xx → ProviderError (transient),
 * anything else → ProviderError (permanent).
 * @internal
 */
export function googleHttpError(provider: string, status: number, body: string, retryAfterMs?: number): SttError {
  let message = '';
  let canonical = '';
  try {
    const e = (JSON.parse(body) as { error?: { message?: unknown; status?: unknown } }).error;
    if (typeof e?.message === 'string') message = e.message.slice(0, 200);
    if (typeof e?.status === 'string') canonical = e.status;
  } catch {
    /* not JSON */
  }
  const text = `Google recognize failed: HTTP ${status}${canonical ? ` ${canonical}` : ''}${message ? ` (${message})` : ''}`;
  const base = { provider, status, ...(canonical ? { providerCode: canonical } : {}), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 401 || status === 403) return new AuthenticationError(text, { ...base, retryable: false });
  if (status === 429) return new RateLimitError(text, base);
  if (status === 400 || status === 404) return new ConfigurationError(text, base);
  return new ProviderError(text, { ...base, retryable: isTransientStatus(status) });
}

/** @internal */
export async function recognizeOnce(req: {
  provider: string;
  url: string;
  headers: Record<string, string>;
  config: RecognizeConfig;
  audio: Uint8Array;
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}): Promise<RecognizedText | undefined> {
  const signal = AbortSignal.any([req.signal, timeoutSignal(req.timeoutMs)]);
  const body = JSON.stringify({ config: req.config, audio: { content: Buffer.from(req.audio).toString('base64') } });
  try {
    const res = await request(req.url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', ...req.headers },
      dispatcher: req.dispatcher,
      signal,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw googleHttpError(req.provider, res.statusCode, text, parseRetryAfter(res.headers['retry-after']));
    let parsed: { results?: { alternatives?: { transcript?: unknown; confidence?: unknown; words?: unknown[] }[]; languageCode?: unknown }[] };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new ProviderError('Google recognize returned a body that is not JSON', { provider: req.provider });
    }
    const results = Array.isArray(parsed.results) ? parsed.results : [];
    const parts: string[] = [];
    const words: RecognizedText['words'] = [];
    let confidence: number | undefined;
    let language: string | undefined;
    for (const r of results) {
      const alt = r.alternatives?.[0];
      if (!alt || typeof alt.transcript !== 'string' || alt.transcript.trim() === '') continue;
      parts.push(alt.transcript.trim());
      if (typeof alt.confidence === 'number') confidence = Math.min(confidence ?? 1, alt.confidence);
      if (typeof r.languageCode === 'string') language = r.languageCode;
      for (const w of Array.isArray(alt.words) ? alt.words : []) {
        const o = w as { word?: unknown; startTime?: unknown; endTime?: unknown; confidence?: unknown };
        if (typeof o.word !== 'string') continue;
        const word = { text: o.word, startMs: durationMs(o.startTime), endMs: durationMs(o.endTime) };
        words.push(typeof o.confidence === 'number' ? { ...word, confidence: o.confidence } : word);
      }
    }
    if (parts.length === 0) return undefined; // silence, or speech in another language
    const out: RecognizedText = { text: parts.join(' '), words, raw: parsed };
    if (confidence !== undefined) out.confidence = confidence;
    if (language !== undefined) out.language = language;
    return out;
  } catch (err) {
    if (isSttError(err)) throw err;
    if (signal.aborted && !req.signal.aborted) {
      throw new TimeoutError(`Google recognize timed out after ${req.timeoutMs} ms`, { provider: req.provider, cause: err });
    }
    throw new ConnectionError('CONNECTION_FAILED', `Google recognize request failed: ${(err as Error).message}`, {
      provider: req.provider,
      cause: err,
    });
  }
}
