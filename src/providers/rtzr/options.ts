/**
 * RTZR provider options: defaults from the environment, client-side
 * validation of decoder options, and the streaming query string.
 *
 * Sources: https://developers.rtzr.ai/docs/en/stt-streaming (common decoder
 * parameters), https://developers.rtzr.ai/docs/en/authentications, the RTZR
 * gRPC proto (`epd_time`, `max_utter_duration`), LiveKit's RTZR plugin
 * (`noise_threshold`, `active_threshold`, keyword limits).
 * @module
 */
import { normalizeAudioFormat, type AudioEncoding, type AudioFormat } from '../../audio/format.js';
import type { ConcurrencyOptions } from '../../coordination/budget.js';
import { ConfigurationError } from '../../errors/index.js';
import type { SessionOptions } from '../provider.js';

/** RTZR streaming models. */
export type RtzrModel = 'sommers_ko' | 'sommers_ja' | 'sommers_en' | 'whisper';
/** RTZR domains: `CALL` (close-talk, phone) or `MEETING` (distant mics). */
export type RtzrDomain = 'CALL' | 'MEETING';

/**
 * One pool of pre-warmed sockets: `count` authenticated WebSockets kept open for streams whose audio
 * is `audio`. A socket's query string fixes `sample_rate`, `encoding` and the decoder options, so a
 * pooled socket only serves a stream whose negotiated wire URL is identical (see `docs/rtzr.md`).
 */
export interface RtzrPrewarmOptions {
  /**
   * Sockets kept open, 0–100. Each one holds one of your plan's concurrent channels (5 free, 20 Basic;
   * https://developers.rtzr.ai/docs/en/rate_limit), like a call in progress.
   */
  count: number;
  /**
   * The audio format your streams write (as in `recognizer.stream({ audio })`), converted to the wire
   * format the same way a stream does. Default `{ encoding: 'mulaw', sampleRate: 8000 }` (Twilio): with the
   * default `wireEncoding` that is `LINEAR16` at 8000 Hz on the wire (`MULAW` with `'passthrough'`), which
   * 8 kHz LINEAR16 input matches too.
   */
  audio?: AudioFormat;
  /** BCP-47 language of the streams (only part of the query for `modelName: 'whisper'`). Default `'ko-KR'`. */
  language?: string;
  /**
   * An idle socket is closed and replaced after this long, ms (at least 50). Default 20000: RTZR's server
   * idle timeout is undocumented, and clients that know the service close sockets after 25 s without audio
   * (LiveKit's RTZR plugin, `_IDLE_TIMEOUT_SECONDS = 25.0`, https://github.com/livekit/agents), so recycling
   * at 20 s keeps every pooled socket younger than that with a 5 s margin. Cost: one handshake per pooled
   * socket every 20 s (the token is cached, so no authenticate request).
   */
  idleMs?: number;
}

/**
 * Options of `new RtzrProvider()`. Every field is optional; credentials default from the environment.
 * `maxConcurrent` (your plan's channels: 5 on Free, 20 on Basic), `queueTimeoutMs` and `leaseTtlMs`
 * set the concurrency budget, which counts pre-warmed sockets (see {@link ConcurrencyOptions} and
 * docs/fleet.md).
 */
export interface RtzrProviderOptions extends ConcurrencyOptions {
  /** Provider id in events and metrics. Default `'rtzr'`. */
  id?: string;
  /** Default: env `RTZR_CLIENT_ID`. */
  clientId?: string;
  /** Default: env `RTZR_CLIENT_SECRET`. Never logged. */
  clientSecret?: string;
  /** REST base; the provider appends `/v1/authenticate`. Default: env `RTZR_API_BASE`, else `https://openapi.vito.ai`. */
  apiBase?: string;
  /**
   * WebSocket base; the provider appends `/v1/transcribe:streaming`. Default: env `RTZR_WEBSOCKET_URL`,
   * else `apiBase` with its scheme swapped to `wss`/`ws`.
   */
  websocketUrl?: string;
  /** `model_name`. Default `sommers_ko`. */
  modelName?: RtzrModel;
  /** `domain`. Default `CALL`. */
  domain?: RtzrDomain;
  /** `use_itn` (number/unit normalisation). Server default true. */
  useItn?: boolean;
  /** `use_disfluency_filter`. Server default false. */
  useDisfluencyFilter?: boolean;
  /** `use_profanity_filter`. Server default false. */
  useProfanityFilter?: boolean;
  /** `use_punctuation`. Server default false. */
  usePunctuation?: boolean;
  /**
   * `keywords` to boost: `'word'` or `[word, score]` (score −5.0…5.0, default 2.0). At most 100,
   * each at most 20 characters, Hangul and spaces only (RTZR's rule for `sommers_ko`).
   */
  keywords?: (string | [string, number])[];
  /** `epd_time`: trailing silence that ends an utterance, **seconds**. Server default 0.5; 0.5–1.0 recommended for voice bots. */
  epdTime?: number;
  /** `max_utter_duration`: force-split longer utterances, **seconds**. Server default 12. */
  maxUtterDuration?: number;
  /** `noise_threshold` (0..1). */
  noiseThreshold?: number;
  /** `active_threshold` (0..1). */
  activeThreshold?: number;
  /** `language` (e.g. `'ko'`, `'en'`): only sent for `modelName: 'whisper'`, where it is required; default from the stream's BCP-47 language. */
  language?: string;
  /**
   * Sockets kept open ahead of demand, so a new call's first audio leaves without a token request or a
   * handshake. A number `n` means `{ count: n }` (8 kHz mu-law input, see {@link RtzrPrewarmOptions});
   * pass one or more {@link RtzrPrewarmOptions} for other formats. Pooled sockets count against RTZR's
   * concurrency limit. Filled by `recognizer.warmup()` (or on the first `connect()`). Default 0.
   */
  prewarm?: number | RtzrPrewarmOptions | RtzrPrewarmOptions[];
  /** Duration of each audio frame sent, ms. Default 100. */
  chunkMs?: number;
  /** Refresh the access token this long before `expire_at`, ms. Default 300000 (5 min). */
  tokenRefreshMarginMs?: number;
  /**
   * Wire encoding: `'linear16'` (default: mu-law/A-law/float32 input is decoded to LINEAR16) or
   * `'passthrough'` (mu-law and A-law input is sent untouched as `MULAW`/`ALAW`).
   */
  wireEncoding?: 'linear16' | 'passthrough';
  /** Timeout of `POST /v1/authenticate`, ms. Default 10000. */
  authTimeoutMs?: number;
  /** Timeout of the WebSocket opening handshake, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** WebSocket ping interval while open, ms (keeps NAT/firewalls open, detects dead peers). Default 15000. */
  pingIntervalMs?: number;
}

/** Options after defaults and validation. @internal */
export interface ResolvedRtzrOptions {
  id: string;
  clientId: string;
  clientSecret: string;
  apiBase: string;
  websocketUrl: string;
  modelName: RtzrModel;
  domain: RtzrDomain;
  useItn?: boolean;
  useDisfluencyFilter?: boolean;
  useProfanityFilter?: boolean;
  usePunctuation?: boolean;
  keywords: string[];
  epdTime?: number;
  maxUtterDuration?: number;
  noiseThreshold?: number;
  activeThreshold?: number;
  language?: string;
  prewarm: ResolvedPrewarm[];
  chunkMs: number;
  tokenRefreshMarginMs: number;
  wireEncoding: 'linear16' | 'passthrough';
  authTimeoutMs: number;
  connectTimeoutMs: number;
  pingIntervalMs: number;
}

/** A validated pre-warm pool spec. @internal */
export interface ResolvedPrewarm {
  count: number;
  audio: Required<AudioFormat>;
  language: string;
  idleMs: number;
}

/** Default idle lifetime of a pre-warmed socket, ms (see {@link RtzrPrewarmOptions.idleMs}). */
export const DEFAULT_PREWARM_IDLE_MS = 20_000;

const MODELS: readonly RtzrModel[] = ['sommers_ko', 'sommers_ja', 'sommers_en', 'whisper'];
const DOMAINS: readonly RtzrDomain[] = ['CALL', 'MEETING'];
const HANGUL_KEYWORD = /^[\uAC00-\uD7A3\u1100-\u11FF\u3130-\u318F ]+$/;

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function checkUrl(name: string, value: string, schemes: string[]): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigurationError(`${name} is not a valid URL`, { provider: 'rtzr' });
  }
  if (!schemes.includes(u.protocol)) {
    throw new ConfigurationError(`${name} must use ${schemes.join(' or ')} (got ${u.protocol})`, { provider: 'rtzr' });
  }
  return trimSlash(value);
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be a number from ${min} to ${max}`, { provider: 'rtzr' });
  }
}

function formatKeywords(keywords: readonly (string | readonly [string, number])[] | undefined): string[] {
  if (!keywords) return [];
  if (!Array.isArray(keywords)) throw new ConfigurationError('keywords must be an array', { provider: 'rtzr' });
  if (keywords.length > 100) throw new ConfigurationError('at most 100 keywords are allowed', { provider: 'rtzr' });
  return keywords.map((k) => {
    const [word, score] = typeof k === 'string' ? [k, undefined] : k;
    if (typeof word !== 'string' || word.trim() === '') {
      throw new ConfigurationError('each keyword must be a non-empty string', { provider: 'rtzr' });
    }
    if ([...word].length > 20) {
      throw new ConfigurationError(`keyword "${word}" is longer than 20 characters`, { provider: 'rtzr' });
    }
    if (!HANGUL_KEYWORD.test(word)) {
      throw new ConfigurationError(`keyword "${word}" must be written in Hangul (and spaces) only`, { provider: 'rtzr' });
    }
    if (score === undefined) return word;
    checkRange(`score of keyword "${word}"`, score, -5, 5);
    return `${word}:${score}`;
  });
}

function resolvePrewarm(value: RtzrProviderOptions['prewarm']): ResolvedPrewarm[] {
  if (value === undefined) return [];
  const specs = typeof value === 'number' ? [{ count: value }] : Array.isArray(value) ? value : [value];
  if (specs.length > 16) throw new ConfigurationError('prewarm: at most 16 pools', { provider: 'rtzr' });
  return specs
    .map((spec, i) => {
      if (typeof spec !== 'object' || spec === null) {
        throw new ConfigurationError('prewarm must be a number or { count, audio?, language?, idleMs? }', {
          provider: 'rtzr',
        });
      }
      const where = specs.length > 1 ? `prewarm[${i}]` : 'prewarm';
      const count = spec.count;
      if (!Number.isInteger(count) || count < 0 || count > 100) {
        throw new ConfigurationError(`${where}: count must be an integer from 0 to 100`, { provider: 'rtzr' });
      }
      const idleMs = spec.idleMs ?? DEFAULT_PREWARM_IDLE_MS;
      if (!Number.isInteger(idleMs) || idleMs < 50) {
        throw new ConfigurationError(`${where}: idleMs must be an integer >= 50`, { provider: 'rtzr' });
      }
      let audio: Required<AudioFormat>;
      try {
        audio = normalizeAudioFormat(spec.audio ?? { encoding: 'mulaw', sampleRate: 8000 });
      } catch (err) {
        throw new ConfigurationError(`${where}.audio: ${(err as Error).message}`, { provider: 'rtzr' });
      }
      const language = spec.language ?? 'ko-KR';
      if (typeof language !== 'string' || language === '') {
        throw new ConfigurationError(`${where}: language must be a BCP-47 string`, { provider: 'rtzr' });
      }
      return { count, audio, language, idleMs };
    })
    .filter((p) => p.count > 0);
}

function positiveInt(name: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`${name} must be an integer >= ${min}`, { provider: 'rtzr' });
  }
  return value;
}

/**
 * Apply environment defaults and validate.
 * @throws {@link ConfigurationError} naming `RTZR_CLIENT_ID`/`RTZR_CLIENT_SECRET` when credentials are missing,
 * or describing the first invalid option.
 */
export function resolveRtzrOptions(
  options: RtzrProviderOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRtzrOptions {
  const clientId = options.clientId ?? env.RTZR_CLIENT_ID;
  const clientSecret = options.clientSecret ?? env.RTZR_CLIENT_SECRET;
  const missing = [
    ...(clientId ? [] : ['RTZR_CLIENT_ID (or option clientId)']),
    ...(clientSecret ? [] : ['RTZR_CLIENT_SECRET (or option clientSecret)']),
  ];
  if (missing.length > 0) {
    throw new ConfigurationError(`RTZR credentials missing: set ${missing.join(' and ')}`, { provider: 'rtzr' });
  }
  const apiBase = checkUrl('apiBase (RTZR_API_BASE)', options.apiBase ?? env.RTZR_API_BASE ?? 'https://openapi.vito.ai', [
    'https:',
    'http:',
  ]);
  const wsDefault = apiBase.replace(/^http/, 'ws');
  const websocketUrl = checkUrl(
    'websocketUrl (RTZR_WEBSOCKET_URL)',
    options.websocketUrl ?? env.RTZR_WEBSOCKET_URL ?? wsDefault,
    ['wss:', 'ws:'],
  );
  const decoder = resolveDecoder(options);
  const wireEncoding = options.wireEncoding ?? 'linear16';
  if (wireEncoding !== 'linear16' && wireEncoding !== 'passthrough') {
    throw new ConfigurationError('wireEncoding must be "linear16" or "passthrough"', { provider: 'rtzr' });
  }
  const resolved: ResolvedRtzrOptions = {
    id: options.id ?? 'rtzr',
    clientId: clientId!,
    clientSecret: clientSecret!,
    apiBase,
    websocketUrl,
    ...decoder,
    prewarm: resolvePrewarm(options.prewarm),
    chunkMs: positiveInt('chunkMs', options.chunkMs ?? 100, 10),
    tokenRefreshMarginMs: positiveInt('tokenRefreshMarginMs', options.tokenRefreshMarginMs ?? 300_000),
    wireEncoding,
    authTimeoutMs: positiveInt('authTimeoutMs', options.authTimeoutMs ?? 10_000, 1),
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? 10_000, 1),
    pingIntervalMs: positiveInt('pingIntervalMs', options.pingIntervalMs ?? 15_000, 1),
  };
  return resolved;
}

/** Decoder options that have no default here (sent only when set). */
const OPTIONAL_DECODER = [
  'useItn',
  'useDisfluencyFilter',
  'useProfanityFilter',
  'usePunctuation',
  'epdTime',
  'maxUtterDuration',
  'noiseThreshold',
  'activeThreshold',
  'language',
] as const;

/** Names of the options a stream may set for itself (`providerOptions.rtzr`, `reconfigure()`): the handshake's decoder options. */
export const RTZR_SESSION_OPTIONS = ['modelName', 'domain', 'keywords', ...OPTIONAL_DECODER] as const;

/** The decoder options: the handshake query parameters, settable per provider and per stream. */
type Decoder = Pick<ResolvedRtzrOptions, (typeof RTZR_SESSION_OPTIONS)[number]>;

/** Validate and default the decoder options (the same rules for the provider and for a stream). */
function resolveDecoder(options: Partial<Record<(typeof RTZR_SESSION_OPTIONS)[number], unknown>>): Decoder {
  const o = options as RtzrProviderOptions;
  const modelName = o.modelName ?? 'sommers_ko';
  if (!MODELS.includes(modelName)) {
    throw new ConfigurationError(`unknown modelName "${String(modelName)}"; expected ${MODELS.join(', ')}`, {
      provider: 'rtzr',
    });
  }
  const domain = o.domain ?? 'CALL';
  if (!DOMAINS.includes(domain)) {
    throw new ConfigurationError(`unknown domain "${String(domain)}"; expected ${DOMAINS.join(' or ')}`, {
      provider: 'rtzr',
    });
  }
  for (const name of ['useItn', 'useDisfluencyFilter', 'useProfanityFilter', 'usePunctuation'] as const) {
    const v = o[name];
    if (v !== undefined && typeof v !== 'boolean') {
      throw new ConfigurationError(`${name} must be a boolean`, { provider: 'rtzr' });
    }
  }
  checkRange('epdTime (seconds)', o.epdTime, 0.1, 10);
  checkRange('maxUtterDuration (seconds)', o.maxUtterDuration, 1, 60);
  checkRange('noiseThreshold', o.noiseThreshold, 0, 1);
  checkRange('activeThreshold', o.activeThreshold, 0, 1);
  if (o.language !== undefined && (typeof o.language !== 'string' || o.language === '')) {
    throw new ConfigurationError('language must be a non-empty string such as "ko"', { provider: 'rtzr' });
  }
  const keywords = formatKeywords(o.keywords);
  if (keywords.length > 0 && modelName !== 'sommers_ko') {
    throw new ConfigurationError('keywords are supported by modelName sommers_ko only', { provider: 'rtzr' });
  }
  const d: Decoder = { modelName, domain, keywords };
  for (const k of OPTIONAL_DECODER) if (o[k] !== undefined) (d as Record<string, unknown>)[k] = o[k];
  return d;
}

/**
 * A stream's own options on top of the provider's: `keywords` (the stream's, replacing the
 * provider's) and `decoder` (RTZR option names, overriding the provider's one by one; its
 * `keywords` win over the stream's). Same validation as the constructor's.
 * @throws {@link ConfigurationError} for an option RTZR does not take per stream, or an invalid value.
 */
export function withSessionOptions(base: ResolvedRtzrOptions, session: SessionOptions): ResolvedRtzrOptions {
  const decoder = session.decoder ?? {};
  if (typeof decoder !== 'object' || decoder === null || Array.isArray(decoder)) {
    throw new ConfigurationError('providerOptions for RTZR must be an object of its decoder options', { provider: base.id });
  }
  for (const k of Object.keys(decoder)) {
    if (!(RTZR_SESSION_OPTIONS as readonly string[]).includes(k)) {
      throw new ConfigurationError(`RTZR takes no per-stream option "${k}" (it takes ${RTZR_SESSION_OPTIONS.join(', ')})`, { provider: base.id });
    }
  }
  const merged: Record<string, unknown> = {};
  for (const k of RTZR_SESSION_OPTIONS) if (k !== 'keywords' && base[k] !== undefined) merged[k] = base[k];
  merged.keywords = base.keywords.map(parseFormattedKeyword);
  if (session.keywords !== undefined) merged.keywords = session.keywords;
  for (const [k, v] of Object.entries(decoder)) if (v !== undefined) merged[k] = v;
  const out: ResolvedRtzrOptions = { ...base };
  for (const k of OPTIONAL_DECODER) delete (out as Partial<ResolvedRtzrOptions>)[k];
  return Object.assign(out, resolveDecoder(merged));
}

/** `word:score` (as resolved) back to what `formatKeywords` takes. */
function parseFormattedKeyword(k: string): string | [string, number] {
  const i = k.lastIndexOf(':');
  return i < 0 ? k : [k.slice(0, i), Number(k.slice(i + 1))];
}

const WIRE_NAMES: Record<AudioEncoding, string | undefined> = {
  linear16: 'LINEAR16',
  mulaw: 'MULAW',
  alaw: 'ALAW',
  float32: undefined,
};

/**
 * Build `{websocketUrl}/v1/transcribe:streaming?…` with `URLSearchParams`
 * (booleans `true`/`false`, keywords `word:score` comma-joined).
 * @throws {@link ConfigurationError} for a sample rate outside 8000–48000 Hz or an encoding RTZR does not take raw.
 */
export function buildStreamingUrl(
  opts: ResolvedRtzrOptions,
  format: { encoding: AudioEncoding; sampleRate: number },
  bcp47Language: string,
): string {
  const encoding = WIRE_NAMES[format.encoding];
  if (!encoding) throw new ConfigurationError(`RTZR does not accept ${format.encoding} audio`, { provider: opts.id });
  if (!Number.isInteger(format.sampleRate) || format.sampleRate < 8000 || format.sampleRate > 48000) {
    throw new ConfigurationError(`RTZR sample_rate must be 8000–48000 Hz (got ${format.sampleRate})`, {
      provider: opts.id,
    });
  }
  const q = new URLSearchParams();
  q.set('sample_rate', String(format.sampleRate));
  q.set('encoding', encoding);
  q.set('model_name', opts.modelName);
  q.set('domain', opts.domain);
  const bools: [string, boolean | undefined][] = [
    ['use_itn', opts.useItn],
    ['use_disfluency_filter', opts.useDisfluencyFilter],
    ['use_profanity_filter', opts.useProfanityFilter],
    ['use_punctuation', opts.usePunctuation],
  ];
  for (const [k, v] of bools) if (v !== undefined) q.set(k, v ? 'true' : 'false');
  if (opts.epdTime !== undefined) q.set('epd_time', String(opts.epdTime));
  if (opts.maxUtterDuration !== undefined) q.set('max_utter_duration', String(opts.maxUtterDuration));
  if (opts.noiseThreshold !== undefined) q.set('noise_threshold', String(opts.noiseThreshold));
  if (opts.activeThreshold !== undefined) q.set('active_threshold', String(opts.activeThreshold));
  if (opts.keywords.length > 0) q.set('keywords', opts.keywords.join(','));
  if (opts.modelName === 'whisper') q.set('language', opts.language ?? bcp47Language.split('-')[0] ?? 'ko');
  return `${opts.websocketUrl}/v1/transcribe:streaming?${q.toString()}`;
}
