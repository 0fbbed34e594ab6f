/**
 * One access token for the fleet: the provider's {@link TokenCache} asks
 * this source instead of authenticating itself. With a coordinator that
 * answers:
 *
 * - a usable shared token (not rejected, outside the refresh margin) is
 *   taken as is: no authenticate request;
 * - otherwise one process takes the refresh lock, checks again, fetches,
 *   and stores the new token; the others poll for it (every 50 ms) and take
 *   the lock in turn if the holder gave up, for at most `waitMs`, then fetch
 *   on their own;
 * - a handshake rejected with 401 marks that token rejected: the shared copy
 *   is deleted only if it is still that token (compare-and-delete under the
 *   lock), so a token another process just refreshed is never thrown away.
 *
 * Without a coordinator, or while it does not answer, every call fetches
 * (the cache in front of it keeps the process's own token, as before).
 * @module
 * @internal
 */
import { refreshMarginFor, type FetchedToken } from '../auth/token-cache.js';
import { AbortError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { CoordinatorLock, SharedToken } from './coordinator.js';
import { CoordinatorLink } from './link.js';

const POLL_MS = 50;

/** @internal */
export interface SharedTokenInit {
  provider: string;
  /** The coordinator's resource name of the token (provider id and a hash of the credentials). */
  resource: string;
  refreshMarginMs: number;
  /** How long a process waits for another's refresh before fetching itself, ms. */
  waitMs: number;
  /** TTL of the refresh lock, ms (longer than one authenticate request may take). */
  lockTtlMs: number;
  logger: () => Logger;
  /** Counters (shared with the provider's stats). */
  counters?: { fleetTokens: number };
  now?: () => number;
}

/** @internal */
export class SharedTokenSource {
  private link: CoordinatorLink;
  private rejectedToken: string | undefined;
  private readonly now: () => number;

  constructor(private readonly init: SharedTokenInit) {
    this.now = init.now ?? Date.now;
    this.link = new CoordinatorLink(undefined, { logger: init.logger() });
  }

  attach(link: CoordinatorLink): void {
    this.link = link;
  }

  /** The server rejected `token` (a handshake 401): never hand it out again. */
  rejected(token: string): void {
    this.rejectedToken = token;
  }

  /** A usable token: the fleet's, or `fetch`'s (once for the fleet). Rejects with `fetch`'s error. */
  async obtain(signal: AbortSignal, fetch: (signal: AbortSignal) => Promise<FetchedToken>): Promise<FetchedToken> {
    const { resource } = this.init;
    const deadline = this.now() + this.init.waitMs;
    for (;;) {
      const read = await this.link.call('read token', (c) => c.getToken(resource));
      if (!read.ok) return fetch(signal); // alone
      if (this.usable(read.value)) return this.fromFleet(read.value!);
      const lock = await this.link.call(
        'lock token refresh',
        (c) => c.tryLock(`token:${resource}`, this.init.lockTtlMs),
        (late) => void late?.release().catch(() => {}),
      );
      if (!lock.ok) return fetch(signal);
      if (lock.value) return this.refreshUnderLock(lock.value, signal, fetch);
      if (this.now() >= deadline) {
        this.init.logger().debug('token: another process is still refreshing; fetching one of our own', {
          provider: this.init.provider,
        });
        return fetch(signal);
      }
      await sleep(POLL_MS, signal);
    }
  }

  private async refreshUnderLock(
    lock: CoordinatorLock,
    signal: AbortSignal,
    fetch: (signal: AbortSignal) => Promise<FetchedToken>,
  ): Promise<FetchedToken> {
    const { resource } = this.init;
    try {
      const again = await this.link.call('read token', (c) => c.getToken(resource));
      if (again.ok && this.usable(again.value)) return this.fromFleet(again.value!);
      const stale = again.ok ? again.value : undefined;
      if (stale && stale.token === this.rejectedToken) {
        await this.link.call('delete token', (c) => c.deleteToken(resource, stale.token));
      }
      const fresh = await fetch(signal);
      const shared: SharedToken = { token: fresh.token, expiresAtMs: fresh.expiresAtMs, fetchedAtMs: this.now() };
      await this.link.call('store token', (c) => c.putToken(resource, shared));
      return { ...fresh, fetchedAtMs: shared.fetchedAtMs };
    } finally {
      void this.link.call('unlock token refresh', () => lock.release(), undefined, true);
    }
  }

  private usable(t: SharedToken | undefined): boolean {
    if (!t || t.token === this.rejectedToken) return false;
    return this.now() < t.expiresAtMs - refreshMarginFor(t, this.init.refreshMarginMs);
  }

  private fromFleet(t: SharedToken): FetchedToken {
    if (this.init.counters) this.init.counters.fleetTokens++;
    return { token: t.token, expiresAtMs: t.expiresAtMs, fetchedAtMs: t.fetchedAtMs };
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortError('token request aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortError('token request aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
