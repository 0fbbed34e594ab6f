/**
 * Google Speech-to-Text provider options, env defaults and validation.
 * Sources: https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize,
 * https://cloud.google.com/speech-to-text/docs/reference/rest/v1/RecognitionConfig.
 * @module
 */
import type { ConcurrencyOptions } from '../../coordination/budget.js';
import { readFileSync } from 'node:fs';
import { ConfigurationError } from '../../errors/index.js';
import type { GoogleStreamingOptions } from './streaming/options.js';

/**
 * The fields of a service-account key file (JSON) this provider uses, with the file's names. Source:
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest.
 */
export interface ServiceAccountCredentials {
  /** The service account's e-mail, the JWT issuer (`iss`). */
  client_email: string;
  /** PEM private key (`-----BEGIN PRIVATE KEY-----…`) that signs the JWT; never logged. */
  private_key: string;
  /** Default `https://oauth2.googleapis.com/token`. */
  token_uri?: string;
  /** The key's project (a key file has it); streaming v2 uses it as the default `projectId`. */
  project_id?: string;
}

/** Options of `new GoogleProvider()`. The {@link GoogleStreamingOptions} apply to `mode: 'streaming'` only. */
export interface GoogleProviderOptions extends GoogleStreamingOptions, ConcurrencyOptions {
  /** Provider id in events and metrics. Default `'google'`. */
  id?: string;
  /** API key (sent as the `x-goog-api-key` header). Default: env `GOOGLE_API_KEY`. */
  apiKey?: string;
  /**
   * Service-account key (the JSON object), used when no API key is given. Default: the file named by
   * env `GOOGLE_APPLICATION_CREDENTIALS`. Exchanged for an OAuth2 token (RS256 JWT bearer grant),
   * cached and refreshed before expiry.
   */
  credentials?: ServiceAccountCredentials;
  /**
   * `'utterance'` (default): REST `speech:recognize` per utterance. `'streaming'`: gRPC
   * `StreamingRecognize` through the optional peer dependency `@google-cloud/speech` (loaded with
   * `import()` only in this mode): interim results, Google's own endpointing; see docs/google.md.
   */
  mode?: 'utterance' | 'streaming';
  /**
   * Base URL; the provider appends `/v1/speech:recognize`. Default `https://speech.googleapis.com`.
   * Streaming mode: `https://host[:port]` (gRPC over TLS, with credentials) or `http://host:port`
   * (plaintext gRPC, no credentials: emulators); v2 with a `location` other than `global` defaults to
   * `https://{location}-speech.googleapis.com`.
   */
  endpoint?: string;
  /** `model`, e.g. `'latest_short'`, `'phone_call'`, `'telephony'`. Default: Google's default for the language. */
  model?: string;
  /** `useEnhanced` (with `phone_call`/`video`). */
  useEnhanced?: boolean;
  /** `enableAutomaticPunctuation`. Default true. */
  enableAutomaticPunctuation?: boolean;
  /** `maxAlternatives` (0–30). Default 1. */
  maxAlternatives?: number;
  /** Trailing silence that ends an utterance (the built-in energy endpointer), ms. Default 500. */
  silenceMs?: number;
  /** Audio kept before the detected speech start and sent with the utterance, ms. Default 300. */
  preRollMs?: number;
  /** Longest utterance sent in one request, ms (Google's synchronous limit is 60 s). Default 55000. */
  maxUtteranceMs?: number;
  /** Timeout of one recognize request, ms. Default 15000. */
  requestTimeoutMs?: number;
  /** Retries of a request failing with 429, 5xx or a network error (400/401/403 are not retried). Default 2. */
  retries?: number;
  /** Most recognize requests in flight per stream. Default 4. */
  maxConcurrentRequests?: number;
  /**
   * Most utterances per stream waiting for their final (in flight or queued for a request slot).
   * Past it the session fails with a retryable `ProviderError` (Google is not keeping up), so the
   * stream falls back instead of holding ever more audio. Default 16.
   */
  maxPendingUtterances?: number;
  /** Refresh the OAuth2 token this long before expiry, ms. Default 300000. */
  tokenRefreshMarginMs?: number;
}

/** @internal */
export interface ResolvedGoogleOptions {
  id: string;
  auth: { kind: 'apiKey'; apiKey: string } | { kind: 'serviceAccount'; credentials: Required<Omit<ServiceAccountCredentials, 'project_id'>> };
  endpoint: string;
  model?: string;
  useEnhanced?: boolean;
  enableAutomaticPunctuation: boolean;
  maxAlternatives: number;
  silenceMs: number;
  preRollMs: number;
  maxUtteranceMs: number;
  requestTimeoutMs: number;
  retries: number;
  maxConcurrentRequests: number;
  maxPendingUtterances: number;
  tokenRefreshMarginMs: number;
}

/** @internal */
export function int(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max}`, { provider: 'google' });
  }
  return x;
}

function loadCredentials(path: string): ServiceAccountCredentials {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ConfigurationError('GOOGLE_APPLICATION_CREDENTIALS names a file that cannot be read', { provider: 'google' });
  }
  try {
    return JSON.parse(text) as ServiceAccountCredentials;
  } catch {
    throw new ConfigurationError('GOOGLE_APPLICATION_CREDENTIALS is not a JSON service-account key', { provider: 'google' });
  }
}

/**
 * Apply env defaults and validate.
 * @throws {@link ConfigurationError} when neither an API key nor service-account credentials are
 * available (naming `GOOGLE_API_KEY` and `GOOGLE_APPLICATION_CREDENTIALS`), or for an invalid option.
 */
export function resolveGoogleOptions(o: GoogleProviderOptions = {}, env: NodeJS.ProcessEnv = process.env): ResolvedGoogleOptions {
  if (o.mode === 'streaming') {
    throw new ConfigurationError('GoogleProvider mode "streaming" (gRPC) is not available yet; use mode "utterance"', {
      provider: 'google',
    });
  }
  if (o.mode !== undefined && o.mode !== 'utterance') {
    throw new ConfigurationError('GoogleProvider mode must be "utterance" or "streaming"', { provider: 'google' });
  }
  const apiKey = o.apiKey ?? env.GOOGLE_API_KEY;
  let auth: ResolvedGoogleOptions['auth'];
  if (apiKey) auth = { kind: 'apiKey', apiKey };
  else {
    const creds = o.credentials ?? (env.GOOGLE_APPLICATION_CREDENTIALS ? loadCredentials(env.GOOGLE_APPLICATION_CREDENTIALS) : undefined);
    if (!creds) {
      throw new ConfigurationError(
        'Google credentials missing: set GOOGLE_API_KEY (or option apiKey), or GOOGLE_APPLICATION_CREDENTIALS (or option credentials)',
        { provider: 'google' },
      );
    }
    if (typeof creds.client_email !== 'string' || typeof creds.private_key !== 'string' || !creds.private_key.includes('PRIVATE KEY')) {
      throw new ConfigurationError('Google service-account credentials need client_email and a PEM private_key', {
        provider: 'google',
      });
    }
    auth = {
      kind: 'serviceAccount',
      credentials: {
        client_email: creds.client_email,
        private_key: creds.private_key,
        token_uri: creds.token_uri ?? 'https://oauth2.googleapis.com/token',
      },
    };
  }
  const endpoint = (o.endpoint ?? 'https://speech.googleapis.com').replace(/\/+$/, '');
  try {
    const u = new URL(endpoint);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error();
  } catch {
    throw new ConfigurationError('endpoint must be an http(s) URL', { provider: 'google' });
  }
  const r: ResolvedGoogleOptions = {
    id: o.id ?? 'google',
    auth,
    endpoint,
    enableAutomaticPunctuation: o.enableAutomaticPunctuation ?? true,
    maxAlternatives: int('maxAlternatives', o.maxAlternatives, 1, 0, 30),
    silenceMs: int('silenceMs', o.silenceMs, 500, 100, 10_000),
    preRollMs: int('preRollMs', o.preRollMs, 300, 0, 2000),
    maxUtteranceMs: int('maxUtteranceMs', o.maxUtteranceMs, 55_000, 1000, 59_000),
    requestTimeoutMs: int('requestTimeoutMs', o.requestTimeoutMs, 15_000, 1, 120_000),
    retries: int('retries', o.retries, 2, 0, 10),
    maxConcurrentRequests: int('maxConcurrentRequests', o.maxConcurrentRequests, 4, 1, 64),
    maxPendingUtterances: int('maxPendingUtterances', o.maxPendingUtterances, 16, 1, 256),
    tokenRefreshMarginMs: int('tokenRefreshMarginMs', o.tokenRefreshMarginMs, 300_000, 0, 3_600_000),
  };
  if (o.model !== undefined) r.model = o.model;
  if (o.useEnhanced !== undefined) r.useEnhanced = o.useEnhanced;
  return r;
}
