/**
 * TokenCache on an injected clock: caching, refresh inside the margin (in the background),
 * single flight, invalidation, failures. No real time passes.
 */
import { describe, expect, it } from 'vitest';
import { TokenCache, type FetchedToken } from '../src/auth/token-cache.js';
import { AuthenticationError } from '../src/index.js';

/** A token server the test answers by hand: each fetch waits until resolved or rejected. */
function server() {
  const pending: { resolve: (t: FetchedToken) => void; reject: (e: unknown) => void; signal: AbortSignal }[] = [];
  let issued = 0;
  return {
    pending,
    fetch: (signal: AbortSignal) => new Promise<FetchedToken>((resolve, reject) => pending.push({ resolve, reject, signal })),
    /** Answer the oldest request with a token valid for `lifetimeMs` from `now`. */
    answer(now: number, lifetimeMs: number) {
      pending.shift()!.resolve({ token: `t${++issued}`, expiresAtMs: now + lifetimeMs });
    },
  };
}

describe('TokenCache (fake clock)', () => {
  it('one fetch for many callers arriving together; cached afterwards', async () => {
    let now = 1_000_000;
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 60_000, now: () => now });
    const gets = Array.from({ length: 20 }, () => cache.get());
    expect(s.pending).toHaveLength(1);
    s.answer(now, 3_600_000);
    const leases = await Promise.all(gets);
    expect(new Set(leases.map((l) => l.token))).toEqual(new Set(['t1']));
    expect(leases.filter((l) => !l.cached)).toHaveLength(1); // the caller that started the fetch paid for it
    now += 1_000_000; // well inside the lifetime, outside the margin
    expect(await cache.get()).toMatchObject({ token: 't1', cached: true, waitedMs: 0 });
    expect(cache.fetches).toBe(1);
  });

  it('inside the refresh margin: the current token at once, one refresh in the background', async () => {
    let now = 0;
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 60_000, now: () => now });
    const first = cache.get();
    s.answer(now, 3_600_000);
    await first;
    now = 3_600_000 - 59_999; // inside the margin, not expired
    expect(await cache.get()).toMatchObject({ token: 't1', cached: true });
    expect(await cache.get()).toMatchObject({ token: 't1', cached: true });
    expect(s.pending).toHaveLength(1); // one background refresh, not one per call
    s.answer(now, 3_600_000);
    await Promise.resolve();
    await Promise.resolve();
    expect(await cache.get()).toMatchObject({ token: 't2', cached: true });
    expect(cache.fetches).toBe(2);
  });

  it('a short-lived token is refreshed at half its lifetime, not at once', async () => {
    let now = 0;
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 3000, now: () => now });
    const first = cache.get();
    s.answer(now, 4000); // lifetime 4 s < 2 × margin: the margin becomes 2 s
    await first;
    now = 1999;
    await cache.get();
    expect(s.pending).toHaveLength(0);
    now = 2000;
    await cache.get();
    expect(s.pending).toHaveLength(1);
  });

  it('an expired token is never handed out: callers wait for the new one', async () => {
    let now = 0;
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 1000, now: () => now });
    const first = cache.get();
    s.answer(now, 10_000);
    await first;
    now = 10_000;
    expect(cache.hasValidToken).toBe(false);
    const waiting = cache.get();
    s.answer(now, 10_000);
    expect(await waiting).toMatchObject({ token: 't2', cached: false });
  });

  it('invalidate() drops a token the server rejected; a background failure keeps the current token', async () => {
    let now = 0;
    const errors: unknown[] = [];
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 1000, now: () => now, onBackgroundError: (e) => errors.push(e) });
    const first = cache.get();
    s.answer(now, 10_000);
    await first;
    now = 9500; // inside the margin
    await cache.get();
    s.pending.shift()!.reject(new AuthenticationError('authenticate 500', { retryable: true }));
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    expect(await cache.get()).toMatchObject({ token: 't1', cached: true });
    s.pending.shift()?.reject(new AuthenticationError('again'));
    await new Promise((r) => setImmediate(r));
    cache.invalidate('t1');
    const next = cache.get();
    expect(s.pending).toHaveLength(1);
    s.answer(now, 10_000);
    expect((await next).token).toBe('t2');
  });

  it('a failed fetch rejects every waiting caller with its error; close() aborts a fetch in flight', async () => {
    const s = server();
    const cache = new TokenCache({ fetch: s.fetch, refreshMarginMs: 1000, now: () => 0 });
    const a = cache.get();
    const b = cache.get();
    s.pending.shift()!.reject(new AuthenticationError('bad credentials'));
    await expect(a).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(b).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    void cache.get().catch(() => undefined);
    const inflight = s.pending[0]!;
    expect(inflight.signal.aborted).toBe(false);
    cache.close();
    expect(inflight.signal.aborted).toBe(true);
  });
});
