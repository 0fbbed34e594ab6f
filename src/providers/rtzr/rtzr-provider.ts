/**
 * `RtzrProvider`: RTZR (VITO) streaming STT over WebSocket.
 *
 * One access token per provider (so per process), cached and refreshed before
 * expiry, single-flight; one WebSocket per stream carrying the whole call
 * (many utterances, server-side endpointing); a handshake rejected with 401
 * forces one token refresh and one retry; optional pools of pre-warmed
 * sockets (`prewarm`) so a call's first audio pays no token or handshake.
 *
 * Protocol sources: https://developers.rtzr.ai/docs/en/authentications,
 * https://developers.rtzr.ai/docs/en/stt-streaming/websocket,
 * https://developers.rtzr.ai/docs/en/rate_limit.
 * @module
 */
import { Agent } from 'undici';
import type WebSocket from 'ws';
import { negotiateFormat } from '../../audio/converter.js';
import { bytesPerMs, type AudioEncoding, type AudioFormat } from '../../audio/format.js';
import { TokenCache } from '../../auth/token-cache.js';
import { channels, diagnosticError } from '../../diagnostics.js';
import { AbortError, type SttError, isSttError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../logger.js';
import type {
  ConnectRequest,
  Provider,
  ProviderCapabilities,
  ProviderSession,
  SessionCosts,
  WarmupOptions,
} from '../provider.js';
import { fetchRtzrToken } from './auth.js';
import { buildStreamingUrl, resolveRtzrOptions, type ResolvedRtzrOptions, type RtzrProviderOptions } from './options.js';
import { RtzrSession, openRtzrSocket } from './session.js';
import { SocketPool } from './socket-pool.js';

/** Counters of what the provider did on the network (for dashboards and tests). */
export interface RtzrProviderStats {
  /** `POST /v1/authenticate` requests started. */
  tokenFetches: number;
  /** WebSocket handshakes started (for streams and for the pre-warm pools). */
  connects: number;
  /** Handshakes rejected with 401 that forced a token refresh. */
  authRetries: number;
  /** Streams served by a pre-warmed socket (no token wait, no handshake). */
  prewarmHits: number;
  /** Streams whose format has a pool but found no idle socket (they paid a handshake). */
  prewarmMisses: number;
  /** Idle pre-warmed sockets closed at their idle age and replaced. */
  prewarmRecycled: number;
  /** Idle pre-warmed sockets that closed by themselves and were replaced. */
  prewarmLost: number;
  /** Pre-warm handshakes or token requests that failed. */
  prewarmFailures: number;
}

interface Opened {
  ws: WebSocket;
  tokenMs: number;
  tokenCached: boolean;
  connectMs: number;
}

/**
 * RTZR streaming provider.
 *
 * @example
 * ```ts
 * const rtzr = new RtzrProvider({ epdTime: 0.5, keywords: ['리턴제로', ['상담원', 3]], prewarm: 2 });
 * const recognizer = new StreamingRecognizer({ providers: [rtzr] });
 * await recognizer.warmup(); // token + 2 open sockets for 8 kHz mu-law calls
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor when credentials are missing
 * (naming `RTZR_CLIENT_ID` / `RTZR_CLIENT_SECRET`) or an option is invalid.
 */
export class RtzrProvider implements Provider {
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  readonly chunkMs: number;
  /** Network counters. */
  readonly stats: RtzrProviderStats = {
    tokenFetches: 0,
    connects: 0,
    authRetries: 0,
    prewarmHits: 0,
    prewarmMisses: 0,
    prewarmRecycled: 0,
    prewarmLost: 0,
    prewarmFailures: 0,
  };
  private readonly options: ResolvedRtzrOptions;
  private readonly dispatcher: Agent;
  private readonly tokens: TokenCache;
  /** Pre-warm pools by wire URL (the query string fixes format and decoder options). */
  private readonly pools = new Map<string, SocketPool>();
  /** For background work (token refresh, pools): the logger of `warmup()` or of the first stream. */
  private logger: Logger | undefined;
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
      // RTZR sends a partial every few hundred ms of speech (LiveKit, TEN): 5 s without one is a stall
      stallTimeoutMs: 5000,
    });
    this.dispatcher = new Agent({ keepAliveTimeout: 30_000, connections: 4 });
    const opts = this.options;
    this.tokens = new TokenCache({
      refreshMarginMs: opts.tokenRefreshMarginMs,
      fetch: (signal) => this.fetchToken(signal),
      onBackgroundError: (err) =>
        this.log().warn('rtzr: background token refresh failed; the current token stays in use', {
          provider: this.id,
          code: (err as { code?: string }).code,
        }),
    });
    for (const spec of opts.prewarm) {
      const wire = negotiateFormat(spec.audio, this.capabilities);
      const url = buildStreamingUrl(opts, wire, spec.language);
      const existing = this.pools.get(url);
      const count = spec.count + (existing ? existing.count : 0);
      const idleMs = Math.min(spec.idleMs, existing ? existing.idleMs : Infinity);
      this.pools.set(url, this.newPool(url, wire, count, idleMs));
    }
  }

  /** Open pre-warmed sockets now ready to serve a stream (all pools). */
  get idleSockets(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.idleCount;
    return n;
  }

  /**
   * Fetch (or reuse) the access token and fill the pre-warm pools; resolves when every pool is full.
   * Rejects with the first typed error (`AuthenticationError`, `RateLimitError`, …); pools keep
   * retrying in the background with bounded backoff.
   */
  async warmup(options: WarmupOptions = {}): Promise<void> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    if (options.logger) this.logger ??= options.logger;
    await this.tokens.get();
    await Promise.all([...this.pools.values()].map((p) => p.fill()));
  }

  /** @inheritDoc */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    this.logger ??= request.logger;
    const url = buildStreamingUrl(this.options, request.format, request.language);
    const pool = this.pools.get(url);
    if (pool) {
      if (request.signal.aborted) throw new AbortError('stream aborted before connecting', { provider: this.id });
      const ws = pool.take();
      if (ws) {
        request.logger.debug('rtzr: stream got a pre-warmed socket', { provider: this.id });
        if (channels.connect.hasSubscribers) {
          channels.connect.publish({
            provider: this.id,
            kind: 'prewarmed',
            forPool: false,
            ok: true,
            durationMs: 0,
            attempt: 1,
            encoding: wireName(request.format.encoding),
            sampleRate: request.format.sampleRate,
          });
        }
        return this.session(ws, { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: true }, request);
      }
      this.stats.prewarmMisses++;
      request.logger.debug('rtzr: no idle pre-warmed socket; connecting now', { provider: this.id });
    }
    const opened = await this.open(url, request.format, request.signal, request.logger, false);
    const { ws, ...costs } = opened;
    request.logger.debug('rtzr: connected', { provider: this.id, ...costs });
    return this.session(ws, { ...costs, prewarmed: false }, request);
  }

  /** Close the pre-warmed sockets, abort an in-flight token request, drop the token, close the HTTP pool. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pools.values()) p.close();
    this.tokens.close();
    await this.dispatcher.close();
  }

  private log(): Logger {
    return this.logger ?? silentLogger;
  }

  private newPool(url: string, wire: Required<AudioFormat>, count: number, idleMs: number): SocketPool {
    return new SocketPool({
      provider: this.id,
      count,
      idleMs,
      pingIntervalMs: this.options.pingIntervalMs,
      counters: this.stats,
      logger: () => this.log(),
      open: async (signal) => (await this.open(url, wire, signal, this.log(), true)).ws,
    });
  }

  private session(ws: WebSocket, costs: SessionCosts, request: ConnectRequest): ProviderSession {
    const session = new RtzrSession({
      provider: this.id,
      ws,
      costs,
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

  /** Token (cached) + handshake, with one token refresh and retry on a 401. Rejects with a typed error. */
  private async open(
    url: string,
    format: Required<AudioFormat>,
    signal: AbortSignal,
    logger: Logger,
    forPool: boolean,
  ): Promise<Opened> {
    const tokenStart = performance.now();
    let lease = await this.tokens.get();
    let tokenCached = lease.cached;
    let connectStart = performance.now();
    let ws: WebSocket;
    try {
      ws = await this.handshake(url, format, lease.token, signal, forPool, 1);
    } catch (err) {
      if (!(isSttError(err) && err.status === 401)) throw err;
      // Token rejected (expired or revoked server-side): refresh once and retry once.
      this.stats.authRetries++;
      logger.info('rtzr: handshake rejected with 401; refreshing the token and retrying once', { provider: this.id });
      this.tokens.invalidate(lease.token);
      lease = await this.tokens.get();
      tokenCached = false;
      connectStart = performance.now();
      ws = await this.handshake(url, format, lease.token, signal, forPool, 2);
    }
    const tokenMs = tokenCached ? 0 : Math.round(connectStart - tokenStart);
    const connectMs = Math.round(performance.now() - connectStart);
    return { ws, tokenMs, tokenCached, connectMs };
  }

  private async handshake(
    url: string,
    format: Required<AudioFormat>,
    token: string,
    signal: AbortSignal,
    forPool: boolean,
    attempt: number,
  ): Promise<WebSocket> {
    this.stats.connects++;
    const started = performance.now();
    const publish = (error?: unknown): void => {
      if (!channels.connect.hasSubscribers) return;
      channels.connect.publish({
        provider: this.id,
        kind: 'handshake',
        forPool,
        ok: error === undefined,
        durationMs: Math.round(performance.now() - started),
        attempt,
        encoding: wireName(format.encoding),
        sampleRate: format.sampleRate,
        ...(error === undefined ? {} : { error: diagnosticError(error) }),
      });
    };
    try {
      const ws = await openRtzrSocket(this.id, url, token, this.options.connectTimeoutMs, signal);
      publish();
      return ws;
    } catch (err) {
      publish(err);
      throw err;
    }
  }

  private async fetchToken(signal: AbortSignal) {
    this.stats.tokenFetches++;
    const started = performance.now();
    const opts = this.options;
    try {
      const token = await fetchRtzrToken({
        provider: opts.id,
        apiBase: opts.apiBase,
        clientId: opts.clientId,
        clientSecret: opts.clientSecret,
        timeoutMs: opts.authTimeoutMs,
        dispatcher: this.dispatcher,
        signal,
      });
      const durationMs = Math.round(performance.now() - started);
      this.log().debug('rtzr: access token fetched', { provider: this.id, durationMs });
      if (channels.token.hasSubscribers) {
        channels.token.publish({ provider: this.id, ok: true, durationMs, expiresInMs: token.expiresAtMs - Date.now() });
      }
      return token;
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      this.log().debug('rtzr: access token request failed', {
        provider: this.id,
        durationMs,
        code: (err as { code?: string }).code,
      });
      if (channels.token.hasSubscribers) {
        channels.token.publish({ provider: this.id, ok: false, durationMs, error: diagnosticError(err) });
      }
      throw err;
    }
  }
}

function wireName(encoding: AudioEncoding): string {
  return encoding === 'linear16' ? 'LINEAR16' : encoding === 'mulaw' ? 'MULAW' : encoding === 'alaw' ? 'ALAW' : 'FLOAT32';
}
