/**
 * A fleet of real processes (test/fleet/worker.ts, one per "server") sharing one RTZR emulator (with
 * RTZR's per-organisation channel cap), one Google emulator and one real redis-server started here.
 * The emulator is the referee: its peak of open connections and its count of 429 `A0002` rejections
 * show whether the fleet ever knocked on a full RTZR.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { FleetWorker, perCallScripts, type CallReport, type WorkerConfig } from './helpers/fleet.js';
import { explainSkip, RedisServer, skipRedisTests } from './helpers/redis-server.js';
import { script } from './helpers/sample-call.js';

explainSkip('test/fleet-processes.test.ts');

describe.skipIf(skipRedisTests)('a fleet of processes on one RedisCoordinator', () => {
  let redis: RedisServer;
  let google: GoogleEmulator;
  let rtzr: RtzrEmulator;
  let workers: FleetWorker[] = [];
  let probe: Redis | undefined;
  let n = 0;

  beforeAll(async () => {
    redis = await RedisServer.start();
    google = await startGoogleEmulator({ scriptFor: perCallScripts(script) });
  });

  afterAll(async () => {
    await google?.close();
    await redis?.stop();
  });

  afterEach(async () => {
    await Promise.all(workers.map((w) => w.close()));
    workers = [];
    probe?.disconnect();
    probe = undefined;
    await rtzr?.close();
  });

  /** Start `count` workers on one namespace against a fresh RTZR emulator with `budget` channels. */
  async function fleet(count: number, budget: number, rtzrOptions: Partial<WorkerConfig['rtzr']> = {}, extra: Partial<WorkerConfig> = {}) {
    rtzr = await startRtzrEmulator({ script, maxConcurrent: budget, latency: { connectMs: 20 } });
    const namespace = `fleet${++n}-${process.pid}`;
    const config: WorkerConfig = {
      rtzr: { apiBase: rtzr.apiBase, ...rtzr.credentials, maxConcurrent: budget, ...rtzrOptions },
      google: { endpoint: google.endpoint, apiKey: google.apiKey },
      redisPort: redis.port,
      namespace,
      ...extra,
    };
    workers = await Promise.all(Array.from({ length: count }, () => FleetWorker.start(config)));
    probe = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    probe.on('error', () => {});
    const account = createHash('sha256').update(`${rtzr.apiBase}\n${rtzr.credentials.clientId}`).digest('hex').slice(0, 16);
    const slotsKey = `semaphore:{${namespace}}:slots:rtzr:${account}`;
    return { workers, slotsKey };
  }

  function expectAllWords(calls: CallReport[]): void {
    for (const c of calls) {
      expect(c.error, c.tag).toBeUndefined();
      expect(c.texts, c.tag).toEqual(script);
    }
  }

  it('acceptance: three processes, RTZR budget 4: never a 429, peak ≤ 4, overflow to Google with every final right, one authenticate', async () => {
    const { workers: ws } = await fleet(3, 4);
    const reports = (await Promise.all(ws.map((w, i) => w.calls(`w${i}c`, 3, 4)))).flat();
    expect(reports).toHaveLength(9);
    expectAllWords(reports);
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
    expect(rtzr.counters.peakOpenConnections).toBeLessThanOrEqual(4);
    const onGoogle = reports.filter((r) => r.opened === 'google');
    expect(onGoogle.length).toBeGreaterThan(0); // the fleet did overflow
    for (const r of onGoogle) expect(r.fallbackCodes).toEqual(['RATE_LIMITED']);
    for (const r of reports.filter((x) => x.opened === 'rtzr')) expect(r.providers).toEqual(['rtzr']);
    expect(rtzr.counters.authRequests).toBe(1);
  });

  it('one authenticate request for the fleet, even when every process warms up at once', async () => {
    const { workers: ws } = await fleet(4, 20, { prewarm: 1 });
    rtzr.setLatency({ authMs: 200 }); // a slow authenticate: all four ask while the first is in flight
    await Promise.all(ws.map((w) => w.warmup()));
    expect(rtzr.counters.authRequests).toBe(1);
    expect(rtzr.counters.openConnections).toBe(4);
  });

  it('a worker SIGKILLed mid-call gives its slots back within the lease TTL', async () => {
    const { workers: ws, slotsKey } = await fleet(2, 2, { leaseTtlMs: 3000 });
    const [a, b] = ws as [FleetWorker, FleetWorker];
    expect(await a.open('k1', 1)).toBe('rtzr');
    expect(await a.open('k2', 1)).toBe('rtzr');
    expect(await probe!.zcard(slotsKey)).toBe(2);
    await a.kill();
    // the sockets died with the process, the leases did not: the fleet still counts them...
    await expect.poll(() => rtzr.counters.openConnections).toBe(0);
    expect(await probe!.zcount(slotsKey, `(${Date.now() - 3000}`, '+inf')).toBe(2);
    expect(await b.open('k3', 8)).toBe('google');
    // ...until their TTL runs out; then the fleet has its two channels back
    await expect.poll(() => probe!.zcount(slotsKey, `(${Date.now() - 3000}`, '+inf'), { timeout: 15_000 }).toBe(0);
    expect(await b.open('k4', 8)).toBe('rtzr');
    expect(await b.open('k5', 8)).toBe('rtzr');
    expectAllWords(await Promise.all(['k3', 'k4', 'k5'].map((t) => b.finish(t))));
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
  });

  it('Redis killed mid-call: no call fails or loses a word, new calls start, coordination resumes when Redis is back', async () => {
    const { workers: ws, slotsKey } = await fleet(2, 4, {}, { redisTimeoutMs: 1000 }); // a killed Redis fails calls at once (connection errors)
    const [a, b] = ws as [FleetWorker, FleetWorker];
    expect(await a.open('r1', 1)).toBe('rtzr');
    expect(await b.open('r2', 1)).toBe('rtzr');
    expect(await probe!.zcard(slotsKey)).toBe(2);
    await redis.kill();
    // new calls still start, on RTZR (each process's own budget while Redis is gone)
    expect(await a.open('r3', 1)).toBe('rtzr');
    expect(await b.open('r4', 1)).toBe('rtzr');
    await expect.poll(() => a.coordinatorEvents.concat(b.coordinatorEvents)).toEqual([false, false]);
    await redis.restart(); // empty: the fleet's count is rebuilt from the processes' open leases
    await expect.poll(() => [a.coordinatorEvents, b.coordinatorEvents], { timeout: 10_000 }).toEqual([
      [false, true],
      [false, true],
    ]);
    await expect.poll(() => probe!.zcard(slotsKey), { timeout: 5000 }).toBe(4);
    // coordinated again: the fleet is at its budget, so the next call goes to Google without a 429
    expect(await a.open('r5', 8)).toBe('google');
    const reports = await Promise.all([a.finish('r1'), b.finish('r2'), a.finish('r3'), b.finish('r4'), a.finish('r5')]);
    expectAllWords(reports);
    expect(reports.slice(0, 4).map((r) => r.providers)).toEqual([['rtzr'], ['rtzr'], ['rtzr'], ['rtzr']]);
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
    expect(rtzr.counters.peakOpenConnections).toBeLessThanOrEqual(4);
  });
});
