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
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { inspect, type InspectOptionsStylized } from 'node:util';
import type WebSocket from 'ws';
import { negotiateFormat } from '../../audio/converter.js';
import { bytesPerMs, type AudioEncoding, type AudioFormat } from '../../audio/format.js';
import { TokenCache } from '../../auth/token-cache.js';
import { ATTACH_COORDINATION, type SelfCoordinating } from '../../coordination/attach.js';
import {
  ConcurrencyBudget,
  isBudgetRejection,
  resolveConcurrency,
  type Lease,
  type ResolvedConcurrency,
} from '../../coordination/budget.js';
import type { CoordinatorLink } from '../../coordination/link.js';
import { SharedTokenSource } from '../../coordination/shared-token.js';
import { channels, diagnosticError } from '../../diagnostics.js';
import { AbortError, type SttError, isSttError } from '../../errors/index.js';
import { silentLogger, type Logger } from '../../logger.js';
import type {
  ConnectRequest,
  Provider,
  ProviderCapabilities,
  ProviderSession,
  SessionCosts,
  SessionOptions,
  WarmupOptions,
} from '../provider.js';
import { fetchRtzrToken } from './auth.js';
import {
  buildStreamingUrl,
  resolveRtzrOptions,
  withSessionOptions,
  type ResolvedRtzrOptions,
  type RtzrProviderOptions,
} from './options.js';
import { RtzrSession, openRtzrSocket } from './session.js';
import { SocketPool } from './socket-pool.js';
import { createHttpDispatcher } from '../../transport/http.js';
import { inspectView, REDACTED, safeUrl } from '../../inspection.js';

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
  /** Pre-warm openings put off because the budget had no slot to spare (pools shrink near the budget). */
  prewarmDeferred: number;
  /** Idle pre-warmed sockets closed to give their slots to calls (the fleet was near its budget). */
  prewarmShed: number;
  /** Streams turned away because the concurrency budget (`maxConcurrent`) was full: no request was sent. */
  budgetRejected: number;
  /** Streams that found the budget full and waited (up to `queueTimeoutMs`) for a slot. */
  budgetWaits: number;
  /** Leases found expired while their socket was open (the coordinator was unreachable for longer than `leaseTtlMs`). */
  leasesLost: number;
  /** Tokens taken from the fleet (the coordinator) instead of an authenticate request. */
  fleetTokens: number;
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
export class RtzrProvider implements Provider, SelfCoordinating {
  readonly id: string;
  readonly capabilities: ProviderCapabilities;
  readonly chunkMs: number;
  /** The concurrency budget (`maxConcurrent`, `queueTimeoutMs`, `leaseTtlMs`), when `maxConcurrent` is set. */
  readonly concurrency: Readonly<ResolvedConcurrency> | undefined;
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
    prewarmDeferred: 0,
    prewarmShed: 0,
    budgetRejected: 0,
    budgetWaits: 0,
    leasesLost: 0,
    fleetTokens: 0,
  };
  private readonly options: ResolvedRtzrOptions;
  private readonly dispatcher: Dispatcher;
  private readonly tokens: TokenCache;
  private readonly sharedToken: SharedTokenSource;
  private readonly budget: ConcurrencyBudget | undefined;
  /** Slots a pre-warm opening must leave free for calls (the pools' total size). */
  private readonly prewarmReserve: number;
  private pressureTimer: NodeJS.Timeout | undefined;
  private syncIntervalMs = 1000;
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
      // No stallTimeoutMs: RTZR sends a partial every few hundred ms of speech (LiveKit, TEN), so the
      // stream's default (5 s) applies, counted on the audio sent as well as on wall time.
    });
    this.dispatcher = createHttpDispatcher(4); // keep-alive, HTTPS_PROXY / NO_PROXY
    const opts = this.options;
    // fleet resources are keyed by a hash of the REST base and client id (never the secret): providers
    // with the same credentials share one token and one budget, whatever their ids
    const account = createHash('sha256').update(`${opts.apiBase}\n${opts.clientId}`).digest('hex').slice(0, 16);
    this.concurrency = resolveConcurrency(options, this.id);
    this.budget = this.concurrency
      ? new ConcurrencyBudget({
          ...this.concurrency,
          provider: this.id,
          resource: `rtzr:${account}`,
          logger: () => this.log(),
          counters: this.stats,
        })
      : undefined;
    this.sharedToken = new SharedTokenSource({
      provider: this.id,
      resource: `rtzr:${account}`,
      refreshMarginMs: opts.tokenRefreshMarginMs,
      waitMs: opts.authTimeoutMs,
      lockTtlMs: opts.authTimeoutMs + 5000,
      logger: () => this.log(),
      counters: this.stats,
    });
    this.tokens = new TokenCache({
      refreshMarginMs: opts.tokenRefreshMarginMs,
      fetch: (signal) => this.sharedToken.obtain(signal, (s) => this.fetchToken(s)),
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
    let pooled = 0;
    for (const p of this.pools.values()) pooled += p.count;
    this.prewarmReserve = Math.max(1, pooled);
  }

  /** @internal The recognizer's coordinator: budget and token become fleet-wide. */
  [ATTACH_COORDINATION](link: CoordinatorLink): void {
    this.budget?.attach(link);
    this.sharedToken.attach(link);
    if (link.coordinator) this.syncIntervalMs = link.coordinator.syncIntervalMs;
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
    this.watchPressure();
    await Promise.all([...this.pools.values()].map((p) => p.fill()));
  }

  /**
   * Per-stream options (a stream's `keywords` and `providerOptions.rtzr`, or `stream.reconfigure()`):
   * the decoder options of the handshake query (`modelName`, `domain`, `keywords`, `useItn`,
   * `useDisfluencyFilter`, `useProfanityFilter`, `usePunctuation`, `epdTime`, `maxUtterDuration`,
   * `noiseThreshold`, `activeThreshold`, `language`), checked as the constructor checks them. RTZR takes
   * them only in the handshake, so a change mid-call is a new connection (a handover).
   * @throws {@link ConfigurationError} for another option or an invalid value.
   */
  checkSessionOptions(options: SessionOptions): void {
    withSessionOptions(this.options, options);
  }

  /** @inheritDoc */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.id });
    this.logger ??= request.logger;
    const options = request.options ? withSessionOptions(this.options, request.options) : this.options;
    const url = buildStreamingUrl(options, request.format, request.language);
    const pool = this.pools.get(url);
    this.watchPressure();
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
    if (this.pressureTimer) clearInterval(this.pressureTimer);
    this.pressureTimer = undefined;
    for (const p of this.pools.values()) p.close();
    this.budget?.close();
    this.tokens.close();
    await this.dispatcher.close();
  }

  /** What `util.inspect()` / `console.log()` show: endpoints, options and counters; credentials and the token redacted. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('RtzrProvider', this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show; credentials and the token redacted. */
  toJSON(): Record<string, unknown> {
    const o = this.options;
    return {
      id: this.id,
      apiBase: safeUrl(o.apiBase),
      websocketUrl: safeUrl(o.websocketUrl),
      clientId: REDACTED,
      clientSecret: REDACTED,
      modelName: o.modelName,
      domain: o.domain,
      wireEncoding: o.wireEncoding,
      chunkMs: this.chunkMs,
      prewarm: o.prewarm.map((p) => ({ count: p.count, audio: { ...p.audio }, idleMs: p.idleMs })),
      idleSockets: this.idleSockets,
      hasToken: this.tokens.hasValidToken,
      stats: { ...this.stats },
      closed: this.closed,
    };
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
      isDeferral: isBudgetRejection,
      deferMs: this.syncIntervalMs,
    });
  }

  /**
   * While pools hold idle sockets under a budget: every `syncIntervalMs`, when fewer slots than the
   * pools' size are free (fleet-wide with a coordinator), close idle sockets until that many are free,
   * so idle sockets never keep live calls from connecting.
   */
  private watchPressure(): void {
    if (!this.budget || this.pools.size === 0 || this.pressureTimer || this.closed) return;
    let busy = false;
    this.pressureTimer = setInterval(() => {
      if (busy || this.idleSockets === 0) return;
      busy = true;
      void this.relievePressure().finally(() => (busy = false));
    }, this.syncIntervalMs);
    this.pressureTimer.unref();
  }

  private async relievePressure(): Promise<void> {
    const free = await this.budget!.free();
    const short = this.prewarmReserve - free;
    if (short <= 0 || this.closed) return;
    const shed = this.shedIdle(short);
    if (shed > 0) {
      this.log().debug('rtzr: the budget is nearly full; closing idle pre-warmed sockets', { provider: this.id, free, shed });
    }
  }

  /** Close up to `n` pooled sockets: idle ones first, then (`openingToo`) openings in flight. */
  private shedIdle(n: number, openingToo = false): number {
    let shed = 0;
    for (const p of this.pools.values()) if (shed < n) shed += p.shed(n - shed);
    if (openingToo) for (const p of this.pools.values()) if (shed < n) shed += p.shed(n - shed, true);
    return shed;
  }

  /**
   * A slot for a stream. When the budget is full and a pool of this process holds a slot (an idle
   * socket of another format, or a replacement still opening), that socket gives way: the stream
   * waits (at most 1 s) for its slot.
   */
  private async leaseForStream(signal: AbortSignal): Promise<Lease> {
    const budget = this.budget!;
    try {
      return await budget.acquire(signal);
    } catch (err) {
      if (!isBudgetRejection(err) || this.shedIdle(1, true) === 0) throw err;
      this.stats.budgetRejected--; // not turned away yet: the retry counts it if it is
      return budget.acquire(signal, { waitMs: 1000 });
    }
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
    if (!this.budget) return this.authorizeAndOpen(url, format, signal, logger, forPool);
    const slot = forPool ? await this.budget.acquire(signal, { reserve: this.prewarmReserve }) : await this.leaseForStream(signal);
    try {
      const opened = await this.authorizeAndOpen(url, format, signal, logger, forPool);
      // the slot is held while the socket is open, whoever uses it (a pooled socket moves to a stream with it)
      if (opened.ws.readyState === opened.ws.CLOSED) slot.release();
      else opened.ws.once('close', () => slot.release());
      return opened;
    } catch (err) {
      slot.release();
      throw err;
    }
  }

  private async authorizeAndOpen(
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
      this.sharedToken.rejected(lease.token);
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
