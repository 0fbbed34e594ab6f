/**
 * Options of `GoogleProvider({ mode: 'streaming' })`: gRPC `StreamingRecognize`
 * v1 or v2, auth, endpoint, pacing and stream-limit settings; env defaults and
 * validation.
 * Sources: https://cloud.google.com/speech-to-text/docs/reference/rpc/google.cloud.speech.v1,
 * https://cloud.google.com/speech-to-text/v2/docs/reference/rpc/google.cloud.speech.v2,
 * https://cloud.google.com/speech-to-text/docs/quotas.
 * @module
 */
import { ConfigurationError } from '../../../errors/index.js';
import { int, type GoogleProviderOptions } from '../options.js';
import { importModule, type ModuleLoader } from './module.js';

/** Options that apply to `mode: 'streaming'` only (part of `GoogleProviderOptions`). */
export interface GoogleStreamingOptions {
  /**
   * Speech-to-Text API version of `mode: 'streaming'`. Default `'v1'`. `'v2'` (recognizers,
   * regional endpoints, `chirp_3`, `telephony`) is what a Korean phone bot should use: ko-KR
   * `telephony` lives in regional locations such as `asia-northeast1`.
   */
  version?: 'v1' | 'v2';
  /**
   * Google Cloud project of the v2 recognizer. Default: the service account's `project_id`, env
   * `GOOGLE_CLOUD_PROJECT` / `GCLOUD_PROJECT`, else discovered from Application Default Credentials.
   */
  projectId?: string;
  /**
   * v2 location. Default: the `recognizer`'s location, else `'global'`. A location other than
   * `global` also selects the regional endpoint `https://{location}-speech.googleapis.com`.
   */
  location?: string;
  /** v2 recognizer resource. Default `projects/{projectId}/locations/{location}/recognizers/_` (the implicit one). */
  recognizer?: string;
  /**
   * The longest one gRPC stream may live, ms (Google ends a stream at ~305 s with `OUT_OF_RANGE`).
   * Declared as the provider's `maxStreamMs` for stream rotation. Default 290000.
   */
  maxStreamMs?: number;
  /** From this stream age on, ms, rotation happens at the next utterance boundary. Default `maxStreamMs − 60000`. */
  rotateAfterMs?: number;
  /**
   * Audio sent ahead of real time on one gRPC stream at most, ms: a replay or a recording written
   * faster than real time goes out in a burst this large, then at real time (Google wants audio
   * "at a rate that approximates real time"). Default 3000.
   */
  streamBurstMs?: number;
  /**
   * A gRPC stream that gets no audio for this long is half-closed (its finals still arrive) and the
   * next audio opens a new one, so Google's "Audio Timeout" (~10 s without audio) never fires. Default 5000.
   */
  streamIdleMs?: number;
  /** Audio queued for pacing at most, ms; past it the session fails with a retryable `PROVIDER_ERROR`. Default 60000. */
  maxQueuedMs?: number;
  /**
   * Ask Google for voice-activity events (`SPEECH_ACTIVITY_BEGIN`/`END`) and use them as the start
   * time of partials. Default false (not every model supports them).
   */
  voiceActivityEvents?: boolean;
  /** Opening the gRPC channel may take this long, ms. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Loads `@google-cloud/speech` / `@grpc/grpc-js` (default: `import()`).
   * @internal Test seam.
   */
  moduleLoader?: ModuleLoader;
}

/** How the gRPC channel authenticates. @internal */
export type StreamingAuth =
  | { kind: 'plaintext' }
  | { kind: 'apiKey'; apiKey: string }
  | { kind: 'serviceAccount'; credentials: { client_email: string; private_key: string } }
  | { kind: 'adc' };

/** @internal */
export interface ResolvedStreamingOptions {
  id: string;
  version: 'v1' | 'v2';
  auth: StreamingAuth;
  /** Host of the gRPC service and its port. */
  servicePath: string;
  port: number;
  projectId?: string;
  location: string;
  recognizer?: string;
  model?: string;
  useEnhanced?: boolean;
  enableAutomaticPunctuation: boolean;
  maxAlternatives: number;
  wordTimeOffsets: boolean;
  maxStreamMs: number;
  rotateAfterMs: number;
  burstMs: number;
  idleMs: number;
  maxQueuedMs: number;
  voiceActivityEvents: boolean;
  connectTimeoutMs: number;
  load: ModuleLoader;
}

const RECOGNIZER_RE = /^projects\/([^/]+)\/locations\/([^/]+)\/recognizers\/[^/]+$/;
const LOCATION_RE = /^[a-z0-9-]+$/;

function nonEmpty(name: string, v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigurationError(`${name} must be a non-empty string`, { provider: 'google' });
  return v;
}

/**
 * Options that only mean something in streaming mode, rejected in utterance mode so a caller does
 * not believe they are used.
 * @throws {@link ConfigurationError}
 */
export function rejectStreamingOnlyOptions(o: GoogleProviderOptions): void {
  for (const k of ['version', 'recognizer', 'location', 'maxStreamMs', 'rotateAfterMs', 'streamBurstMs', 'streamIdleMs'] as const) {
    if (o[k] !== undefined) {
      throw new ConfigurationError(`GoogleProvider option ${k} applies to mode "streaming" only`, { provider: 'google' });
    }
  }
}

/**
 * Apply env defaults and validate streaming options. Auth, in order: a plaintext `http://`
 * endpoint (no credentials: emulators), `apiKey` / env `GOOGLE_API_KEY`, `credentials`, else
 * Application Default Credentials (env `GOOGLE_APPLICATION_CREDENTIALS`, gcloud, metadata server).
 * @throws {@link ConfigurationError} for an invalid option.
 */
export function resolveGoogleStreamingOptions(o: GoogleProviderOptions, env: NodeJS.ProcessEnv = process.env): ResolvedStreamingOptions {
  const version = o.version ?? 'v1';
  if (version !== 'v1' && version !== 'v2') throw new ConfigurationError('version must be "v1" or "v2"', { provider: 'google' });
  const recognizer = nonEmpty('recognizer', o.recognizer);
  const match = recognizer === undefined ? undefined : RECOGNIZER_RE.exec(recognizer);
  if (recognizer !== undefined && !match) {
    throw new ConfigurationError('recognizer must look like projects/{project}/locations/{location}/recognizers/{id}', { provider: 'google' });
  }
  if (recognizer !== undefined && version !== 'v2') throw new ConfigurationError('recognizer needs version "v2"', { provider: 'google' });
  const location = nonEmpty('location', o.location) ?? match?.[2] ?? 'global';
  if (!LOCATION_RE.test(location)) throw new ConfigurationError('location must be a Google Cloud location such as "global" or "asia-northeast1"', { provider: 'google' });
  if (match && match[2] !== location) throw new ConfigurationError('location differs from the recognizer\'s location', { provider: 'google' });

  const defaultEndpoint = version === 'v2' && location !== 'global' ? `https://${location}-speech.googleapis.com` : 'https://speech.googleapis.com';
  let url: URL;
  try {
    url = new URL(o.endpoint ?? defaultEndpoint);
  } catch {
    throw new ConfigurationError('endpoint must be an http(s) URL', { provider: 'google' });
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || (url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    throw new ConfigurationError('endpoint must be a base URL: https://host[:port] (TLS) or http://host:port (plaintext gRPC)', { provider: 'google' });
  }
  const plaintext = url.protocol === 'http:';

  let auth: StreamingAuth;
  const apiKey = o.apiKey ?? env.GOOGLE_API_KEY;
  if (plaintext) auth = { kind: 'plaintext' };
  else if (apiKey) auth = { kind: 'apiKey', apiKey };
  else if (o.credentials) {
    const c = o.credentials;
    if (typeof c.client_email !== 'string' || typeof c.private_key !== 'string' || !c.private_key.includes('PRIVATE KEY')) {
      throw new ConfigurationError('Google service-account credentials need client_email and a PEM private_key', { provider: 'google' });
    }
    auth = { kind: 'serviceAccount', credentials: { client_email: c.client_email, private_key: c.private_key } };
  } else auth = { kind: 'adc' };

  const projectId = nonEmpty('projectId', o.projectId) ?? match?.[1] ?? o.credentials?.project_id ?? env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  if (version === 'v2' && projectId === undefined && (auth.kind === 'plaintext' || auth.kind === 'apiKey')) {
    throw new ConfigurationError('version "v2" needs projectId (or recognizer, or env GOOGLE_CLOUD_PROJECT) with this authentication', {
      provider: 'google',
    });
  }
  const maxStreamMs = int('maxStreamMs', o.maxStreamMs, 290_000, 1000, 3_600_000);
  const rotateAfterMs = int('rotateAfterMs', o.rotateAfterMs, Math.max(Math.round(maxStreamMs / 2), maxStreamMs - 60_000), 0, maxStreamMs);
  const model = nonEmpty('model', o.model) ?? (version === 'v2' ? 'long' : undefined);
  const r: ResolvedStreamingOptions = {
    id: o.id ?? 'google',
    version,
    auth,
    servicePath: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : plaintext ? 80 : 443,
    location,
    enableAutomaticPunctuation: o.enableAutomaticPunctuation ?? true,
    maxAlternatives: int('maxAlternatives', o.maxAlternatives, 1, 0, 30),
    // Chirp 3 returns no word timings (https://cloud.google.com/speech-to-text/v2/docs/chirp_3-model).
    wordTimeOffsets: !(model ?? '').startsWith('chirp_3'),
    maxStreamMs,
    rotateAfterMs,
    burstMs: int('streamBurstMs', o.streamBurstMs, 3000, 200, 60_000),
    idleMs: int('streamIdleMs', o.streamIdleMs, 5000, 100, 60_000),
    maxQueuedMs: int('maxQueuedMs', o.maxQueuedMs, 60_000, 1000, 600_000),
    voiceActivityEvents: o.voiceActivityEvents ?? false,
    connectTimeoutMs: int('connectTimeoutMs', o.connectTimeoutMs, 10_000, 1, 120_000),
    load: o.moduleLoader ?? importModule,
  };
  if (projectId !== undefined) r.projectId = projectId;
  if (recognizer !== undefined) r.recognizer = recognizer;
  if (model !== undefined) r.model = model;
  if (o.useEnhanced !== undefined) r.useEnhanced = o.useEnhanced;
  return r;
}
