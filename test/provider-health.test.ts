/**
 * ProviderHealth on a fake clock: a provider a stream left is out of rotation, probed after the
 * cooldown (not before), back in on success, with the cooldown doubling (up to 5 min) on failure.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError, type Provider, type ProviderSession } from '../src/index.js';
import { quietLogger, STREAMING_CAPABILITIES } from './helpers/in-test-provider.js';
import { ProviderHealth } from '../src/recognizer/health.js';


/** A provider whose health check the test decides: 'ok', 'fail', or 'hang' (until aborted). */
class ProbedProvider implements Provider {
  readonly capabilities = STREAMING_CAPABILITIES;
  readonly probes: { at: number; signal: AbortSignal }[] = [];
  next: 'ok' | 'fail' | 'hang' = 'fail';
  constructor(readonly id: string) {}
  connect(): Promise<ProviderSession> {
    return Promise.reject(new ConnectionError('CONNECTION_FAILED', 'not in this test'));
  }
  probe(signal: AbortSignal): Promise<void> {
    this.probes.push({ at: performance.now(), signal });
    if (this.next === 'ok') return Promise.resolve();
    if (this.next === 'fail') return Promise.reject(new ConnectionError('CONNECTION_FAILED', 'still down'));
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  }
}

let changes: [string, boolean][];
beforeEach(() => {
  vi.useFakeTimers();
  changes = [];
});
afterEach(() => vi.useRealTimers());

function health(providers: Provider[], cooldownMs = 1000, probeTimeoutMs = 500): ProviderHealth {
  return new ProviderHealth(providers, cooldownMs, probeTimeoutMs, quietLogger, (id, available) => changes.push([id, available]));
}

describe('ProviderHealth (fake clock)', () => {
  it('takes a failed provider out of rotation and probes it after the cooldown, not before', async () => {
    const a = new ProbedProvider('a');
    const b = new ProbedProvider('b');
    const h = health([a, b]);
    h.failed(a, new ConnectionError('CONNECTION_LOST', 'dropped'));
    expect(h.isAvailable('a')).toBe(false);
    expect(h.order().map((p) => p.id)).toEqual(['b', 'a']);
    expect(changes).toEqual([['a', false]]);
    a.next = 'ok';
    await vi.advanceTimersByTimeAsync(999);
    expect(a.probes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.probes.map((p) => p.at)).toEqual([1000]);
    expect(h.isAvailable('a')).toBe(true);
    expect(h.order().map((p) => p.id)).toEqual(['a', 'b']);
    expect(changes).toEqual([
      ['a', false],
      ['a', true],
    ]);
    h.close();
  });

  it('a failing probe doubles the cooldown, up to 5 minutes', async () => {
    const a = new ProbedProvider('a');
    const h = health([a], 60_000);
    h.failed(a, new ConnectionError('CONNECTION_LOST', 'dropped'));
    await vi.advanceTimersByTimeAsync(60_000 + 120_000 + 240_000 + 300_000 + 300_000);
    const gaps = a.probes.map((p, i) => p.at - (i === 0 ? 0 : a.probes[i - 1]!.at));
    expect(gaps).toEqual([60_000, 120_000, 240_000, 300_000, 300_000]);
    expect(h.isAvailable('a')).toBe(false);
    expect(changes).toEqual([['a', false]]); // no flapping events while it stays down
    h.close();
  });

  it('a probe that hangs is aborted after the probe timeout and counts as failed', async () => {
    const a = new ProbedProvider('a');
    a.next = 'hang';
    const h = health([a], 1000, 500);
    h.failed(a, new ConnectionError('CONNECTION_LOST', 'dropped'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(a.probes).toHaveLength(1);
    expect(a.probes[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(500);
    expect(a.probes[0]!.signal.aborted).toBe(true);
    a.next = 'ok';
    await vi.advanceTimersByTimeAsync(2000); // the doubled cooldown
    expect(a.probes).toHaveLength(2);
    expect(h.isAvailable('a')).toBe(true);
    h.close();
  });

  it('close() cancels the scheduled probe and the one in flight', async () => {
    const a = new ProbedProvider('a');
    a.next = 'hang';
    const h = health([a], 1000, 60_000);
    h.failed(a, new ConnectionError('CONNECTION_LOST', 'dropped'));
    await vi.advanceTimersByTimeAsync(1000);
    h.close();
    expect(a.probes[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0);
    h.failed(a, new ConnectionError('CONNECTION_LOST', 'after close'));
    expect(vi.getTimerCount()).toBe(0);
  });
});
