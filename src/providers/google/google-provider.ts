/**
 * `GoogleProvider`: Google Cloud Speech-to-Text, utterance mode (REST v1
 * `speech:recognize` per utterance). No interim results; a final arrives one
 * round trip after the utterance's end is detected. Meant as the fallback
 * that keeps a call going when the primary provider fails.
 * Source: https://cloud.google.com/speech-to-text/docs/reference/rest/v1/speech/recognize
 * @module
 */
import { Agent } from 'undici';
import { TokenCache } from '../../auth/token-cache.js';
import { AbortError } from '../../errors/index.js';
import type { ConnectRequest, Provider, ProviderCapabilities, ProviderSession } from '../provider.js';
import { fetchGoogleToken } from './auth.js';
import { resolveGoogleOptions, type GoogleProviderOptions, type ResolvedGoogleOptions } from './options.js';
import { recognizeOnce } from './recognize.js';
import { GoogleUtteranceSession } from './session.js';

/**
 * Google Speech-to-Text provider (utterance mode).
 *
 * @example
 * ```ts
 * const recognizer = new StreamingRecognizer({
 *   providers: [new RtzrProvider(), new GoogleProvider({ apiKey: process.env.GOOGLE_API_KEY, model: 'latest_short' })],
 * });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor when no credentials are
 * available or an option is invalid.
 */
export class GoogleProvider implements Provider {
  readonly id: string;
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
  private readonly opts: ResolvedGoogleOptions;
  private readonly dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
  private readonly tokens: TokenCache | undefined;
  private closed = false;

  constructor(options: GoogleProviderOptions = {}) {
    this.opts = resolveGoogleOptions(options);
    this.id = this.opts.id;
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
    await this.tokens?.get();
  }

  /**
   * Cheap health check: fetch the OAuth2 token (service account), or recognise 100 ms of silence
   * (API key), and reject with the typed error if that fails.
   */
  async probe(signal: AbortSignal): Promise<void> {
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
    await this.dispatcher.close();
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
