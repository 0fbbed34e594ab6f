/**
 * The RTZR pre-warm pool's retry schedule on a fake clock: a pool whose handshakes keep failing
 * retries at once, then after 1, 2, 4, 8 and 16 s, then pauses until it is needed again. No real
 * time passes and no socket is opened (every handshake fails).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type WebSocket from 'ws';
import { ConnectionError } from '../src/index.js';
import { quietLogger } from './helpers/in-test-provider.js';
import { SocketPool } from '../src/providers/rtzr/socket-pool.js';


beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function failingPool() {
  const attempts: number[] = [];
  const counters = { prewarmHits: 0, prewarmRecycled: 0, prewarmLost: 0, prewarmFailures: 0 };
  const pool = new SocketPool({
    provider: 'rtzr',
    count: 1,
    idleMs: 60_000,
    pingIntervalMs: 15_000,
    counters,
    logger: () => quietLogger,
    open: (): Promise<WebSocket> => {
      attempts.push(performance.now());
      return Promise.reject(new ConnectionError('CONNECTION_FAILED', 'refused', { provider: 'rtzr' }));
    },
  });
  return { pool, attempts, counters };
}

describe('SocketPool retry schedule (fake clock)', () => {
  it('retries at once, then after 1, 2, 4, 8, 16 s, then pauses: one attempt per start() after that', async () => {
    const { pool, attempts, counters } = failingPool();
    await expect(pool.fill()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(attempts).toEqual([0, 0, 1000, 3000, 7000, 15_000, 31_000]);
    expect(counters.prewarmFailures).toBe(7);
    expect(vi.getTimerCount()).toBe(0); // paused: no timer left

    pool.start(); // a stream needed a socket: one more attempt (the schedule resets only on a healthy socket)
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts.slice(7)).toEqual([600_000]);
    pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() during a backoff clears its timer, and fill() after close rejects', async () => {
    const { pool, attempts } = failingPool();
    pool.start();
    await vi.advanceTimersByTimeAsync(500); // waiting for the 1 s retry
    pool.close();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempts).toHaveLength(2);
    await expect(pool.fill()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
