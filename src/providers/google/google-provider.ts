/**
 * `GoogleProvider`: Google Cloud Speech-to-Text. Utterance mode (default): REST
 * v1 `speech:recognize` per utterance; no interim results, a final arrives one
 * round trip after the utterance's end is detected. Streaming mode: gRPC
 * `StreamingRecognize` (v1 or v2) through the optional peer dependency
 * `@google-cloud/speech` (see `streaming/`). Meant as the fallback that keeps a
 * call going when the primary provider fails.
 * Sources: https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize,
 * https://cloud.google.com/speech-to-text/docs/reference/rpc/google.cloud.speech.v1
 * @module
 */
import { resolveConcurrency, type ResolvedConcurrency } from '../../coordination/budget.js';
import type { Dispatcher } from 'undici';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { TokenCache } from '../../auth/token-cache.js';
import { AbortError } from '../../errors/index.js';
import type { ConnectRequest, Provider, ProviderCapabilities, ProviderSession } from '../provider.js';
import { fetchGoogleToken } from './auth.js';
import { resolveGoogleOptions, type GoogleProviderOptions, type ResolvedGoogleOptions } from './options.js';
import { recognizeOnce } from './recognize.js';
import { GoogleUtteranceSession } from './session.js';
import { GoogleStreamingBackend } from './streaming/backend.js';
import { rejectStreamingOnlyOptions, resolveGoogleStreamingOptions } from './streaming/options.js';
import { createHttpDispatcher } from '../../transport/http.js';
import { inspectView, REDACTED, safeUrl } from '../../inspection.js';

/**
 * Google Speech-to-Text provider: utterance mode (REST, default) or streaming mode (gRPC,
 * `mode: 'streaming'`, needs `npm install @google-cloud/speech`).
 *
 * @example
 * ```ts
 * const recognizer = new StreamingRecognizer({
 *   providers: [new RtzrProvider(), new GoogleProvider({ apiKey: process.env.GOOGLE_API_KEY, model: 'latest_short' })],
 * });
 * const streaming = new GoogleProvider({ mode: 'streaming', version: 'v2', location: 'asia-northeast1', model: 'telephony' });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor when an option is
 * invalid or (utterance mode) no credentials are available. Streaming mode rejects `connect()`,
 * `warmup()` and `probe()` with a `ConfigurationError` naming `@google-cloud/speech` when it is not installed.
 */
export class GoogleProvider implements Provider {
  readonly id: string;
  /** The concurrency budget (`maxConcurrent`, `queueTimeoutMs`, `leaseTtlMs`), when `maxConcurrent` is set; enforced by the recognizer. */
  readonly concurrency: Readonly<ResolvedConcurrency> | undefined;
  readonly capabilities: ProviderCapabilities = Object.freeze({
    streaming: false,
    interimResults: false,
    wordTimings: true,
    serverEndpointing: false,
    encodings: ['linear16', 'mulaw'] as const,
    sampleRates: { min: 8000, max: 48000 },
    preferredSampleRate: 16000,
  });
  readonly chunkMs = 100;
  /** Streaming mode: the longest one gRPC stream may live, ms (option `maxStreamMs`, default 290000). */
  readonly maxStreamMs?: number;
  /** Streaming mode: rotate at the next utterance boundary from this stream age on, ms (option `rotateAfterMs`). */
  readonly rotateAfterMs?: number;
  private readonly opts!: ResolvedGoogleOptions;
  private readonly streaming: GoogleStreamingBackend | undefined;
  private readonly dispatcher: Dispatcher = createHttpDispatcher(8); // keep-alive, HTTPS_PROXY / NO_PROXY
  private readonly tokens: TokenCache | undefined;
  private closed = false;

  constructor(options: GoogleProviderOptions = {}) {
    if (options.mode === 'streaming') {
      const resolved = resolveGoogleStreamingOptions(options);
      this.streaming = new GoogleStreamingBackend(resolved);
      this.id = resolved.id;
      this.capabilities = this.streaming.capabilities;
      this.maxStreamMs = resolved.maxStreamMs;
      this.rotateAfterMs = resolved.rotateAfterMs;
      this.concurrency = resolveConcurrency(options, this.id);
      return;
    }
    rejectStreamingOnlyOptions(options);
    this.opts = resolveGoogleOptions(options);
    this.id = this.opts.id;
    this.concurrency = resolveConcurrency(options, this.id);
    const auth = this.opts.auth;
    if (auth.kind === 'serviceAccount') {
      this.tokens = new TokenCache({
        refreshMarginMs: this.opts.tokenRefreshMarginMs,
        fetch: (signal) =>
          fetchGoogleToken({
            provider: this.id,
            email: auth.credentials.client_email,
            privateKey: auth.credentials.private_key,
            tokenUri: auth.credentials.token_uri,
            timeoutMs: this.opts.requestTimeoutMs,
            dispatcher: this.dispatcher,
            signal,
          }),
      });
    }
  }

  /** Fetch the OAuth2 token ahead of the first call (service-account auth). */
  async warmup(): Promise<void> {
    if (this.streaming) return this.streaming.warmup();
    await this.tokens?.get();
  }

  /**
   * Cheap health check: fetch the OAuth2 token (service account), or recognise 100 ms of silence
   * (API key), and reject with the typed error if that fails.
   */
  async probe(signal: AbortSignal): Promise<void> {
    if (this.streaming) return this.streaming.probe(signal);
    if (this.tokens) {
      await this.tokens.get();
      return;
    }
    await recognizeOnce({
      provider: this.id,
      url: `${this.opts.endpoint}/v1/speech:recognize`,
      headers: await this.headers(),
      config: {
        encoding: 'LINEAR16',
        sampleRateHertz: 16000,
        languageCode: 'en-US',
        enableAutomaticPunctuation: false,
        maxAlternatives: 1,
        enableWordTimeOffsets: true,
      },
      audio: new Uint8Array(3200),
      timeoutMs: this.opts.requestTimeoutMs,
      dispatcher: this.dispatcher,
      signal,
    });
  }

  /** @inheritDoc */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    if (this.streaming) return this.streaming.connect(request);
    const started = performance.now();
    let tokenCached = true;
    if (this.tokens) tokenCached = (await this.tokens.get()).cached;
    if (request.signal.aborted) throw new AbortError('stream aborted while connecting', { provider: this.id });
    const session = new GoogleUtteranceSession({
      opts: this.opts,
      format: request.format,
      language: request.language,
      costs: { tokenMs: tokenCached ? 0 : Math.round(performance.now() - started), tokenCached, connectMs: 0, prewarmed: false },
      dispatcher: this.dispatcher,
      headers: () => this.headers(),
      rejectedAuth: (used) => this.rejectedAuth(used),
      includeRaw: request.includeRaw ?? false,
      logger: request.logger,
      onResult: (r) => request.onResult(r),
      onError: (e) => request.onError(e),
    });
    request.signal.addEventListener('abort', () => session.abort(), { once: true });
    return session;
  }

  /** Release the HTTP pool and the token. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tokens?.close();
    await Promise.all([this.dispatcher.close(), this.streaming?.close()]);
  }

  /** What `util.inspect()` / `console.log()` show: endpoint, options, auth kind; the API key, private key and token redacted. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('GoogleProvider', this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show; the API key, private key and token redacted. */
  toJSON(): Record<string, unknown> {
    if (this.streaming) return { id: this.id, ...this.streaming.toJSON(), closed: this.closed };
    const o = this.opts;
    const auth =
      o.auth.kind === 'apiKey'
        ? { kind: 'apiKey', apiKey: REDACTED }
        : {
            kind: 'serviceAccount',
            client_email: o.auth.credentials.client_email,
            private_key: REDACTED,
            token_uri: safeUrl(o.auth.credentials.token_uri),
            hasToken: this.tokens?.hasValidToken ?? false,
          };
    return {
      id: this.id,
      mode: 'utterance',
      endpoint: safeUrl(o.endpoint),
      auth,
      ...(o.model === undefined ? {} : { model: o.model }),
      requestTimeoutMs: o.requestTimeoutMs,
      retries: o.retries,
      maxConcurrentRequests: o.maxConcurrentRequests,
      closed: this.closed,
    };
  }

  /** A 401 with these headers: drop their service-account token (true), or nothing to refresh (API key). */
  private rejectedAuth(used: Record<string, string>): boolean {
    const bearer = /^Bearer (.+)$/.exec(used.authorization ?? '');
    if (!this.tokens || !bearer) return false;
    this.tokens.invalidate(bearer[1]!);
    return true;
  }

  private async headers(): Promise<Record<string, string>> {
    const auth = this.opts.auth;
    if (auth.kind === 'apiKey') return { 'x-goog-api-key': auth.apiKey };
    const lease = await this.tokens!.get();
    return { authorization: `Bearer ${lease.token}` };
  }
}
