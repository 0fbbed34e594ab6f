/**
 * A process-wide access-token cache: one token per credential set, refreshed
 * before it expires, single-flight (N callers arriving together cause one
 * request). Shared by every stream of a provider; used by the RTZR provider
 * and by Google service-account auth.
 * @module
 */

/** What a token fetch returns. */
export interface FetchedToken {
  /** The bearer token. Never logged. */
  token: string;
  /** Absolute expiry, epoch milliseconds. */
  expiresAtMs: number;
  /** When it was fetched, epoch ms, if not just now (a token shared by the fleet). */
  fetchedAtMs?: number;
}

/**
 * The refresh margin of a token, ms: `marginMs`, or half the token's lifetime when that is shorter
 * than twice the margin (so a short-lived token is still reused).
 */
export function refreshMarginFor(t: { expiresAtMs: number; fetchedAtMs: number }, marginMs: number): number {
  const lifetime = t.expiresAtMs - t.fetchedAtMs;
  return Math.min(marginMs, Math.max(0, lifetime / 2));
}

/** Result of {@link TokenCache.get}. */
export interface TokenLease {
  token: string;
  /** True when no request was made for this call (cached, or an in-flight refresh served it without waiting). */
  cached: boolean;
  /** Wall time this call waited for a token, ms (0 when cached). */
  waitedMs: number;
}

/** Options of {@link TokenCache}. */
export interface TokenCacheOptions {
  /** Fetches a new token. Receives an AbortSignal that fires on {@link TokenCache.close}. */
  fetch: (signal: AbortSignal) => Promise<FetchedToken>;
  /**
   * Refresh this long before expiry, ms. When a token's whole lifetime is shorter than twice
   * the margin, half its lifetime is used instead, so a short-lived token is still reused.
   */
  refreshMarginMs: number;
  /** Clock, epoch ms (tests). Default `Date.now`. */
  now?: () => number;
  /** Called when a background refresh fails (the current token stays in use until it expires). */
  onBackgroundError?: (error: unknown) => void;
}

/**
 * Token cache with single-flight refresh.
 *
 * - No token, or an expired one: callers wait for one shared request.
 * - A valid token inside the refresh margin: callers get it at once and one
 *   background refresh starts, so no call pays the token round trip.
 * - {@link invalidate} drops a token the server rejected (e.g. a 401 on the
 *   WebSocket handshake); the next {@link get} fetches a new one.
 */
export class TokenCache {
  private current: (FetchedToken & { fetchedAtMs: number }) | undefined;
  private inflight: Promise<FetchedToken> | undefined;
  private readonly controller = new AbortController();
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Number of fetches started (for metrics and tests). */
  fetches = 0;

  /** Get a usable token, fetching (once, shared) when needed. Rejects with the fetch's error. */
  async get(): Promise<TokenLease> {
    const now = this.now();
    const cur = this.current;
    if (cur && now < cur.expiresAtMs) {
      if (now >= cur.expiresAtMs - this.marginFor(cur)) this.refreshInBackground();
      return { token: cur.token, cached: true, waitedMs: 0 };
    }
    const started = performance.now();
    const joined = this.inflight !== undefined;
    const fresh = await this.refresh();
    return { token: fresh.token, cached: joined, waitedMs: Math.max(0, performance.now() - started) };
  }

  /** Forget `token` if it is the cached one (a server rejected it). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  /** True when a non-expired token is cached. */
  get hasValidToken(): boolean {
    return this.current !== undefined && this.now() < this.current.expiresAtMs;
  }

  /** Abort an in-flight fetch and drop the token. */
  close(): void {
    this.controller.abort();
    this.current = undefined;
  }

  private marginFor(t: { expiresAtMs: number; fetchedAtMs: number }): number {
    return refreshMarginFor(t, this.options.refreshMarginMs);
  }

  private refreshInBackground(): void {
    if (this.inflight) return;
    this.refresh().catch((err: unknown) => this.options.onBackgroundError?.(err));
  }

  private refresh(): Promise<FetchedToken> {
    if (this.inflight) return this.inflight;
    this.fetches++;
    const p = this.options
      .fetch(this.controller.signal)
      .then((t) => {
        if (!this.controller.signal.aborted) this.current = { ...t, fetchedAtMs: t.fetchedAtMs ?? this.now() };
        return t;
      })
      .finally(() => {
        if (this.inflight === p) this.inflight = undefined;
      });
    this.inflight = p;
    return p;
  }

  /** `util.inspect()` shows whether a token is held, never the token. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `TokenCache { hasValidToken: ${this.hasValidToken}, fetches: ${this.fetches}, token: '[redacted]' }`;
  }

  /** `JSON.stringify()` shows whether a token is held, never the token. */
  toJSON(): Record<string, unknown> {
    return { hasValidToken: this.hasValidToken, fetches: this.fetches, token: '[redacted]' };
  }
}
