/**
 * The connection supervisor on its own, on a fake clock: the §8 policy (retry, switch, give up),
 * p-retry's backoff, Retry-After, the give-up clock, outages and healthy uptime, closing.
 *
 * The providers are a tiny in-test implementation of the public `Provider` interface (what a user
 * writing their own provider implements); nothing of the library is replaced.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AllProvidersFailedError,
  AuthenticationError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  TimeoutError,
} from '../src/index.js';
import { ScriptedProvider, supervise } from './helpers/scripted-provider.js';

/** Let promise chains settle without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Supervisor: one provider', () => {
  it('connects and serves; results of the serving connection reach the stream', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = supervise([p]);
    await flush();
    expect(listener.events).toEqual(['open p']);
    expect(sup.link?.provider.id).toBe('p');
    p.sessions[0]!.result();
    expect(listener.events).toEqual(['open p', 'result p']);
    sup.close();
    await flush();
    expect(p.sessions[0]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('retries transient failures with exponential backoff (p-retry, jitter), past the budget: no other provider is left', async () => {
    const errors = [
      new ConnectionError('CONNECTION_FAILED', 'refused'),
      new AuthenticationError('authenticate 500', { status: 500, retryable: true }),
      new TimeoutError('authenticate timed out'),
      new RateLimitError('429'),
      new ProviderError('truncated JSON frame'),
    ];
    const p = new ScriptedProvider('p', [...errors]);
    const { listener } = supervise([p]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(listener.failures).toEqual([]);
    expect(listener.reconnects.map((e) => [e.attempt, e.reason.message])).toEqual(errors.map((e, i) => [i + 1, e.message]));
    expect(listener.events.at(-1)).toBe('open p');
    // retry n waits min(maxDelayMs, minDelayMs × 2^(n−1) × r), r in [1, 2)
    listener.reconnects.forEach((e, i) => {
      const base = 100 * 2 ** i;
      expect(e.delayMs).toBeGreaterThanOrEqual(Math.min(1000, base));
      expect(e.delayMs).toBeLessThanOrEqual(Math.min(1000, 2 * base));
    });
    // the delay reported is the time between the failure and the new attempt
    listener.reconnects.forEach((e, i) => expect(p.connects[i + 1]! - p.connects[i]!).toBe(e.delayMs));
  });

  it("waits at least the server's Retry-After before the next attempt", async () => {
    const p = new ScriptedProvider('p', [new RateLimitError('429', { retryAfterMs: 3000 }), new RateLimitError('429')]);
    const { listener } = supervise([p]);
    await vi.advanceTimersByTimeAsync(2999);
    expect(p.connects).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.connects).toHaveLength(2);
    expect(listener.reconnects[0]!.delayMs).toBe(3000);
    // without Retry-After, the backoff alone (second retry: 200–400 ms)
    await vi.advanceTimersByTimeAsync(400);
    expect(p.connects).toHaveLength(3);
    expect(listener.reconnects[1]!.delayMs).toBeLessThanOrEqual(400);
  });

  it('gives up after giveUpAfterMs, not before, with the provider\'s own error, and reports every attempt', async () => {
    const p = new ScriptedProvider('p', [], new ConnectionError('CONNECTION_FAILED', 'refused'));
    const { listener, failedProviders } = supervise([p], { giveUpAfterMs: 5000 });
    await vi.advanceTimersByTimeAsync(4999);
    expect(listener.failures).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.failures.map((f) => [f.error.code, f.at])).toEqual([['CONNECTION_FAILED', 5000]]);
    expect(listener.failures[0]!.error).not.toBeInstanceOf(AllProvidersFailedError);
    expect(listener.reconnects.map((e) => e.attempt)).toEqual(p.connects.slice(1).map((_, i) => i + 1));
    expect(failedProviders).toEqual(['p']);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.connects.length).toBe(listener.reconnects.length + 1); // nothing after giving up
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives up on a permanent failure at once', async () => {
    const p = new ScriptedProvider('p', [new AuthenticationError('401 after a token refresh', { status: 401 })]);
    const { listener } = supervise([p]);
    await flush();
    expect(listener.events).toEqual(['failed AUTH_FAILED']);
    expect(p.connects).toHaveLength(1);
  });

  it('reconnect: false gives up at the first transient failure', async () => {
    const p = new ScriptedProvider('p', [new ConnectionError('CONNECTION_FAILED', 'refused')]);
    const { listener } = supervise([p], { reconnect: false });
    await flush();
    expect(listener.events).toEqual(['failed CONNECTION_FAILED']);
  });

  it('a connect that never answers fails after attemptTimeoutMs and is retried', async () => {
    const p = new ScriptedProvider('p', ['hang']);
    const { listener } = supervise([p], { fallback: { attemptTimeoutMs: 2000 } });
    await vi.advanceTimersByTimeAsync(1999);
    expect(p.connects).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1 + 200);
    expect(listener.reconnects.map((e) => e.reason.code)).toEqual(['TIMEOUT']);
    expect(listener.events.at(-1)).toBe('open p');
  });

  it('a drop of a healthy connection starts a new outage (fresh budget, first retry at once)', async () => {
    const p = new ScriptedProvider('p');
    const { listener } = supervise([p]);
    await vi.advanceTimersByTimeAsync(2000); // healthy: up for resetAfterMs, nothing owed
    p.sessions[0]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await flush();
    expect(listener.events).toEqual(['open p', 'lost p CONNECTION_LOST', 'reconnect p 1', 'open p']);
    expect(listener.reconnects[0]!.delayMs).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    p.sessions[1]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped again'));
    await flush();
    expect(listener.reconnects.map((e) => e.attempt)).toEqual([1, 1]);
  });

  it('a connection that fails before proving healthy continues the outage: budget, backoff and give-up clock go on', async () => {
    const p = new ScriptedProvider('p');
    const { listener } = supervise([p], { giveUpAfterMs: 5000 });
    await flush();
    // every connection dies 500 ms after it opened, never delivering anything
    for (let i = 0; i < 20 && listener.failures.length === 0; i++) {
      await vi.advanceTimersByTimeAsync(500);
      p.sessions.at(-1)!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
      await vi.advanceTimersByTimeAsync(1000); // longer than any backoff (maxDelayMs)
    }
    expect(listener.failures.map((f) => f.error.code)).toEqual(['CONNECTION_LOST']);
    expect(listener.failures[0]!.at).toBeGreaterThanOrEqual(5000);
    const attempts = listener.reconnects.map((e) => e.attempt);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1)); // one outage: the attempts keep counting
  });

  it('a connection whose uptime passes while a result is owed is healthy at its next result', async () => {
    const p = new ScriptedProvider('p', [new ConnectionError('CONNECTION_FAILED', 'refused')]);
    const { sup, listener } = supervise([p]);
    await vi.advanceTimersByTimeAsync(300); // one retry, then open
    listener.owed = true; // speech went out, no answer yet
    await vi.advanceTimersByTimeAsync(2500); // up for resetAfterMs, but owing: not healthy yet
    p.sessions[0]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(listener.reconnects.map((e) => e.attempt)).toEqual([1, 2]); // the same outage
    listener.owed = true;
    await vi.advanceTimersByTimeAsync(2500);
    listener.owed = false;
    sup.progress(sup.link!, false); // what the stream reports with each result: healthy now
    p.sessions[1]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await flush();
    expect(listener.reconnects.map((e) => [e.attempt, e.delayMs])).toEqual([
      [1, expect.any(Number)],
      [2, expect.any(Number)],
      [1, 0], // a new outage: fresh budget, first retry at once
    ]);
  });

  it('progress (a final) restarts the give-up clock: a flaky provider that keeps delivering never gives up', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = supervise([p], { giveUpAfterMs: 3000 });
    await flush();
    for (let i = 0; i < 15; i++) {
      const link = sup.link!;
      await vi.advanceTimersByTimeAsync(400);
      p.sessions.at(-1)!.result({ type: 'final' });
      sup.progress(link, true);
      p.sessions.at(-1)!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(listener.failures).toEqual([]);
    expect(listener.reconnects.length).toBe(15);
    sup.close();
  });

  it('ignores a retired connection: no results, no second failure', async () => {
    const p = new ScriptedProvider('p');
    const { listener } = supervise([p]);
    await flush();
    const old = p.sessions[0]!;
    old.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await vi.advanceTimersByTimeAsync(300); // the first outage goes on: one backoff step
    expect(old.aborted).toBe(true);
    old.result();
    old.fail(new ConnectionError('CONNECTION_LOST', 'late'));
    await flush();
    expect(listener.events).toEqual(['open p', 'lost p CONNECTION_LOST', 'reconnect p 1', 'open p']);
  });

  it('close() stops everything: no attempt, no event, no timer', async () => {
    const p = new ScriptedProvider('p', [], new ConnectionError('CONNECTION_FAILED', 'refused'));
    const { sup, listener } = supervise([p]);
    await vi.advanceTimersByTimeAsync(150); // backing off
    const before = [...listener.events];
    sup.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(listener.events).toEqual(before);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() while a connect hangs aborts it', async () => {
    const p = new ScriptedProvider('p', ['hang']);
    const { sup, listener } = supervise([p], { fallback: { attemptTimeoutMs: 0 } });
    await flush();
    sup.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(listener.events).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Supervisor: several providers', () => {
  it('a failed or dropped connection is retried on the same provider while the budget lasts, then falls back', async () => {
    const a = new ScriptedProvider('a', [], new ConnectionError('CONNECTION_FAILED', 'refused'));
    const b = new ScriptedProvider('b');
    const { listener, failedProviders } = supervise([a, b]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(listener.events).toEqual(['reconnect a 1', 'reconnect a 2', 'reconnect a 3', 'fallback a>b CONNECTION_FAILED', 'open b']);
    expect(failedProviders).toEqual(['a']);
    expect(b.connects[0]).toBe(a.connects.at(-1)); // the switch goes out at once
  });

  it('any other transient failure switches at once', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')]);
    const b = new ScriptedProvider('b');
    const { listener } = supervise([a, b]);
    await flush();
    expect(listener.events).toEqual(['fallback a>b RATE_LIMITED', 'open b']);
  });

  it('with the last provider left, transient failures are retried there until the give-up clock runs out', async () => {
    const refused = new ConnectionError('CONNECTION_FAILED', 'refused');
    const a = new ScriptedProvider('a', [new AuthenticationError('401', { status: 401 })]);
    const b = new ScriptedProvider('b', [], refused);
    const { listener } = supervise([a, b], { giveUpAfterMs: 4000 });
    await vi.advanceTimersByTimeAsync(4000);
    expect(listener.events.slice(0, 5)).toEqual(['fallback a>b AUTH_FAILED', 'reconnect b 1', 'reconnect b 2', 'reconnect b 3', 'reconnect b 4']);
    const failure = listener.failures[0]!.error as AllProvidersFailedError;
    expect(failure).toBeInstanceOf(AllProvidersFailedError);
    expect(failure.errors.map((e) => [e.provider ?? '?', e.code])).toEqual([
      ['?', 'AUTH_FAILED'],
      ['?', 'CONNECTION_FAILED'],
    ]);
  });

  it('every provider failing permanently: AllProvidersFailedError with each one\'s error, at once', async () => {
    const a = new ScriptedProvider('a', [new AuthenticationError('401', { status: 401, provider: 'a' })]);
    const b = new ScriptedProvider('b', [new ProviderError('config rejected', { retryable: false, provider: 'b' })]);
    const { listener } = supervise([a, b]);
    await flush();
    expect(listener.events).toEqual(['fallback a>b AUTH_FAILED', 'failed ALL_PROVIDERS_FAILED']);
    const failure = listener.failures[0]!.error as AllProvidersFailedError;
    expect(failure.errors.map((e) => [e.provider, e.code])).toEqual([
      ['a', 'AUTH_FAILED'],
      ['b', 'PROVIDER_ERROR'],
    ]);
  });

  it('fallback: false keeps to the first provider', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')]);
    const b = new ScriptedProvider('b');
    const { listener } = supervise([a, b], { fallback: false });
    await vi.advanceTimersByTimeAsync(1000);
    expect(listener.events).toEqual(['reconnect a 1', 'open a']);
    expect(b.connects).toEqual([]);
  });

  it('a stream never goes back to a provider it left', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')]);
    const b = new ScriptedProvider('b');
    const { listener } = supervise([a, b]);
    await vi.advanceTimersByTimeAsync(2000);
    b.sessions[0]!.fail(new ProviderError('error frame'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(listener.events).toEqual(['fallback a>b RATE_LIMITED', 'open b', 'lost b PROVIDER_ERROR', 'reconnect b 1', 'open b']);
    expect(a.connects).toHaveLength(1);
  });
});
