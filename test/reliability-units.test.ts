import { describe, expect, it } from 'vitest';
import { ReplayBuffer } from '../src/stream/replay-buffer.js';
import { recoveryFor, resolveReliability, type RecoveryContext } from '../src/stream/reliability.js';
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  TimeoutError,
} from '../src/index.js';

describe('ReplayBuffer', () => {
  it('keeps audio after the commit point and replays it byte for byte', () => {
    const b = new ReplayBuffer(1000, 2);
    const data = Uint8Array.from({ length: 600 }, (_, i) => i % 251);
    for (let i = 0; i < 600; i += 100) b.append(data.subarray(i, i + 100));
    b.commit(250); // sample-aligned down to 250
    expect(b.start).toBe(250);
    const { from, chunks } = b.read(0);
    expect(from).toBe(250);
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(data.subarray(250)));
  });

  it('never holds more than its window, counting what the window dropped', () => {
    const b = new ReplayBuffer(300, 2);
    for (let i = 0; i < 50; i++) {
      b.append(new Uint8Array(64));
      expect(b.size).toBeLessThanOrEqual(300);
    }
    expect(b.end).toBe(3200);
    expect(b.droppedBytes).toBe(3200 - 300);
  });

  it('copies what it is given (callers reuse their buffers)', () => {
    const b = new ReplayBuffer(100, 1);
    const src = new Uint8Array([1, 2, 3]);
    b.append(src);
    src.fill(9);
    expect(Buffer.concat(b.read(0).chunks)).toEqual(Buffer.from([1, 2, 3]));
  });

  it('matches a plain array model over random appends, commits and reads (ring wrap-around, growth)', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (const window of [64, 1000, 40_000]) {
      const b = new ReplayBuffer(window, 2);
      const model: number[] = []; // every byte ever written
      let start = 0;
      for (let step = 0; step < 3000; step++) {
        const n = 2 * (1 + rand(window < 100 ? 40 : 700));
        const chunk = Uint8Array.from({ length: n }, () => rand(256));
        b.append(chunk);
        model.push(...chunk);
        start = Math.max(start, model.length - (window - (window % 2)));
        if (rand(5) === 0) {
          const c = start + 2 * rand(Math.floor((model.length - start) / 2) + 1);
          b.commit(c);
          start = Math.max(start, c);
        }
        expect(b.start).toBe(start);
        expect(b.end).toBe(model.length);
        expect(b.size).toBeLessThanOrEqual(window);
        const from = start + 2 * rand(Math.floor((model.length - start) / 2) + 1);
        const got = Buffer.concat(b.read(from).chunks);
        expect(got.equals(Buffer.from(model.slice(from)))).toBe(true);
      }
    }
  });

  it('reads a range that starts and ends inside pieces', () => {
    const b = new ReplayBuffer(100, 1);
    b.append(new Uint8Array([0, 1, 2, 3]));
    b.append(new Uint8Array([4, 5, 6, 7]));
    expect(Buffer.concat(b.read(2, 6).chunks)).toEqual(Buffer.from([2, 3, 4, 5]));
  });
});

describe('recovery policy (spec §8)', () => {
  const transient = [
    new ConnectionError('CONNECTION_LOST', 'dropped'),
    new ConnectionError('CONNECTION_FAILED', 'refused'),
    new AuthenticationError('authenticate 500', { status: 500, retryable: true }),
    new RateLimitError('429', { status: 429, retryAfterMs: 1000 }),
    new TimeoutError('stalled'),
    new ProviderError('truncated JSON frame'),
  ];
  const permanent = [new AuthenticationError('401 after a refresh', { status: 401 }), new ConfigurationError('400 H0001')];
  const ctx = (c: Partial<RecoveryContext>): RecoveryContext => ({ reconnect: true, hasNext: false, budgetSpent: false, ...c });

  it('with no other provider, retries every transient failure on the same provider, budget or not', () => {
    for (const e of transient) {
      expect(recoveryFor(e, ctx({}))).toBe('retry');
      expect(recoveryFor(e, ctx({ budgetSpent: true }))).toBe('retry');
    }
  });

  it('classifies by retryable, not by code: the same code can be either', () => {
    expect(recoveryFor(new AuthenticationError('5xx', { retryable: true }), ctx({}))).toBe('retry');
    expect(recoveryFor(new AuthenticationError('401', { retryable: false }), ctx({}))).toBe('give-up');
    expect(recoveryFor(new ProviderError('bad request frame', { retryable: false }), ctx({}))).toBe('give-up');
  });

  it('a permanent failure goes to the next provider, or gives up when none is left', () => {
    for (const e of permanent) {
      expect(recoveryFor(e, ctx({ hasNext: true }))).toBe('next');
      expect(recoveryFor(e, ctx({}))).toBe('give-up');
    }
  });

  it('with another provider: connection faults reconnect while the budget lasts, the rest switch at once', () => {
    const [lost, refused, ...rest] = transient;
    for (const e of [lost!, refused!]) {
      expect(recoveryFor(e, ctx({ hasNext: true }))).toBe('retry');
      expect(recoveryFor(e, ctx({ hasNext: true, budgetSpent: true }))).toBe('next');
    }
    for (const e of rest) expect(recoveryFor(e, ctx({ hasNext: true }))).toBe('next');
  });

  it('reconnect: false never retries the same provider', () => {
    for (const e of transient) {
      expect(recoveryFor(e, ctx({ reconnect: false, hasNext: true }))).toBe('next');
      expect(recoveryFor(e, ctx({ reconnect: false }))).toBe('give-up');
    }
  });

  it('resolves documented defaults and rejects bad values', () => {
    const r = resolveReliability(undefined, undefined);
    expect(r).toEqual({
      fallback: true,
      reconnect: { retries: 3, minDelayMs: 100, maxDelayMs: 2000, resetAfterMs: 10_000 },
      replayWindowMs: 30_000,
      attemptTimeoutMs: 10_000,
      stallTimeoutMs: undefined, // per provider: capabilities.stallTimeoutMs, else 5000
      giveUpAfterMs: undefined, // the stream's replay window
      recoveryCooldownMs: 30_000,
      replayBurstMs: 5000,
      replaySpeed: 4,
      switchBack: true,
      handoverWaitMs: 15_000,
    });
    expect(resolveReliability({ switchBack: false, handoverWaitMs: 2000 }, undefined)).toMatchObject({ switchBack: false, handoverWaitMs: 2000 });
    expect(resolveReliability(false, undefined).switchBack).toBe(false); // no fallback: nothing to switch back from
    expect(() => resolveReliability({ switchBack: 'yes' as unknown as boolean }, undefined)).toThrow(ConfigurationError);
    expect(() => resolveReliability({ handoverWaitMs: 0 }, undefined)).toThrow(ConfigurationError);
    expect(resolveReliability({ stallTimeoutMs: 800, giveUpAfterMs: 2000 }, undefined)).toMatchObject({
      stallTimeoutMs: 800,
      giveUpAfterMs: 2000,
    });
    expect(resolveReliability(false, false)).toMatchObject({ fallback: false, reconnect: false });
    expect(() => resolveReliability({ replayWindowMs: -1 }, undefined)).toThrow(ConfigurationError);
    expect(() => resolveReliability({ giveUpAfterMs: Number.NaN }, undefined)).toThrow(ConfigurationError);
    expect(() => resolveReliability({ replaySpeed: 0.5 }, undefined)).toThrow(ConfigurationError);
  });
});
