/**
 * `RtzrProvider`: RTZR (VITO) streaming STT over WebSocket.
 *
 * One access token per provider (so per process), cached and refreshed before
 * expiry, single-flight; one WebSocket per stream carrying the whole call
 * (many utterances, server-side endpointing); a handshake rejected with 401
 * forces one token refresh and one retry.
 *
 * Protocol sources: https://developers.rtzr.ai/docs/en/authentications,
 * https://developers.rtzr.ai/docs/en/stt-streaming/websocket,
 * https://developers.rtzr.ai/docs/en/rate_limit.
 * @module
 */
import { Agent } from 'undici';
import { bytesPerMs, type AudioEncoding } from '../../audio/format.js';
import { TokenCache } from '../../auth/token-cache.js';
import { AbortError, type SttError, isSttError } from '../../errors/index.js';
import type { ConnectRequest, Provider, ProviderCapabilities, ProviderSession } from '../provider.js';
import { fetchRtzrToken } from './auth.js';
import { buildStreamingUrl, resolveRtzrOptions, type ResolvedRtzrOptions, type RtzrProviderOptions } from './options.js';
import { RtzrSession, openRtzrSocket } from './session.js';

/** Counters of what the provider did on the network (for dashboards and tests). */
export interface RtzrProviderStats {
  /** `POST /v1/authenticate` requests started. */
  tokenFetches: number;
  /** WebSocket handshakes started. */
  connects: number;
  /** Handshakes rejected with 401 that forced a token refresh. */
  authRetries: number;
}

/**
 * RTZR streaming provider.
 *
 * @example
 * ```ts
 * const rtzr = new RtzrProvider({ epdTime: 0.5, keywords: ['리턴제로', ['상담원', 3]] });
 * const recognizer = new StreamingRecognizer({ providers: [rtzr] });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor when credentials are missing
 * (naming `RTZR_CLIENT_ID` / `RTZR_CLIENT_SECRET`) or an option is invalid.
 */
export class RtzrProvider implements Provider {
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  readonly chunkMs: number;
  /** Network counters. */
  readonly stats: RtzrProviderStats = { tokenFetches: 0, connects: 0, authRetries: 0 };
  private readonly options: ResolvedRtzrOptions;
  private readonly dispatcher: Agent;
  private readonly tokens: TokenCache;
  private closed = false;

  constructor(options: RtzrProviderOptions = {}) {
    this.options = resolveRtzrOptions(options);
    this.id = this.options.id;
    this.chunkMs = this.options.chunkMs;
    const encodings: AudioEncoding[] =
      this.options.wireEncoding === 'passthrough' ? ['linear16', 'mulaw', 'alaw'] : ['linear16'];
    this.capabilities = Object.freeze({
      streaming: true,
      interimResults: true,
      wordTimings: true,
      serverEndpointing: true,
      encodings,
      sampleRates: { min: 8000, max: 48000 },
      preferredSampleRate: 16000,
    });
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 4 });
    const opts = this.options;
    this.tokens = new TokenCache({
      refreshMarginMs: opts.tokenRefreshMarginMs,
      fetch: (signal) => {
        this.stats.tokenFetches++;
        return fetchRtzrToken({
          provider: opts.id,
          apiBase: opts.apiBase,
          clientId: opts.clientId,
          clientSecret: opts.clientSecret,
          timeoutMs: opts.authTimeoutMs,
          dispatcher: this.dispatcher,
          signal,
        });
      },
    });
  }

  /** Fetch (or reuse) the access token ahead of the first call. Rejects with a typed error. */
  async warmup(): Promise<void> {
    await this.tokens.get();
  }

  /** @inheritDoc */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    const url = buildStreamingUrl(this.options, request.format, request.language);
    const tokenStart = performance.now();
    let lease = await this.tokens.get();
    let tokenCached = lease.cached;
    let connectStart = performance.now();
    let ws;
    try {
      this.stats.connects++;
      ws = await openRtzrSocket(this.id, url, lease.token, this.options.connectTimeoutMs, request.signal);
    } catch (err) {
      if (!(isSttError(err) && err.status === 401)) throw err;
      // Token rejected (expired or revoked server-side): refresh once and retry once.
      this.stats.authRetries++;
      request.logger.info('rtzr: handshake rejected with 401; refreshing the token and retrying once', {
        provider: this.id,
      });
      this.tokens.invalidate(lease.token);
      lease = await this.tokens.get();
      tokenCached = false;
      connectStart = performance.now();
      this.stats.connects++;
      ws = await openRtzrSocket(this.id, url, lease.token, this.options.connectTimeoutMs, request.signal);
    }
    const now = performance.now();
    const tokenMs = tokenCached ? 0 : Math.round(connectStart - tokenStart);
    const connectMs = Math.round(now - connectStart);
    request.logger.debug('rtzr: connected', { provider: this.id, tokenMs, tokenCached, connectMs });
    const session = new RtzrSession({
      provider: this.id,
      ws,
      costs: { tokenMs, tokenCached, connectMs, prewarmed: false },
      bytesPerMs: bytesPerMs(request.format),
      pingIntervalMs: this.options.pingIntervalMs,
      includeRaw: request.includeRaw ?? false,
      logger: request.logger,
      onResult: (r) => request.onResult(r),
      onError: (e: SttError) => request.onError(e),
    });
    if (request.signal.aborted) session.abort();
    else request.signal.addEventListener('abort', () => session.abort(), { once: true });
    return session;
  }

  /** Abort an in-flight token request, drop the token and close the HTTP pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tokens.close();
    await this.dispatcher.close();
  }
}
