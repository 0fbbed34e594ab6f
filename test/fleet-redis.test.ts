/**
 * RedisCoordinator against a real redis-server (started here on a free loopback port, persistence
 * off). Two recognizers with their own ioredis clients stand for two servers of a fleet; the
 * multi-process tests are in fleet-processes.test.ts.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  GoogleProvider,
  RedisCoordinator,
  RtzrProvider,
  StreamingRecognizer,
  type AvailabilityEvent,
  type CoordinatorEvent,
  type FallbackEvent,
  type StreamSummary,
} from '../src/index.js';
import { startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { perCallScripts } from './helpers/fleet.js';
import { explainSkip, RedisServer, skipRedisTests } from './helpers/redis-server.js';
import { playCall, script, writeCall } from './helpers/sample-call.js';

explainSkip('test/fleet-redis.test.ts');

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;

describe.skipIf(skipRedisTests)('RedisCoordinator (real redis-server)', () => {
  let redis: RedisServer;
  let rtzr: RtzrEmulator;
  let google: GoogleEmulator;
  let clients: Redis[] = [];
  let recognizers: StreamingRecognizer[] = [];
  let namespace = '';
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
    for (const r of recognizers) await r.close();
    await expect.poll(() => rtzr.counters.openConnections).toBe(0);
    await rtzr.close();
    for (const c of clients) c.disconnect();
    recognizers = [];
    clients = [];
  });

  async function setup(budget: number, emulator: Parameters<typeof startRtzrEmulator>[0] = {}) {
    rtzr = await startRtzrEmulator({ script, maxConcurrent: budget, ...emulator });
    namespace = `t${++n}-${process.pid}`;
  }

  function client(): Redis {
    const c = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    c.on('error', () => {});
    clients.push(c);
    return c;
  }

  /** One "server" of the fleet: its own ioredis client, coordinator, providers and recognizer. */
  function server(
    rtzrOptions: ConstructorParameters<typeof RtzrProvider>[0] = {},
    coordinatorOptions: { redisTimeoutMs?: number; syncIntervalMs?: number } = {},
    warnings: string[] = [],
  ) {
    // 5 s unless a test is about Redis trouble: a busy machine must not pass for a slow Redis
    const coordinator = new RedisCoordinator({ redis: client(), namespace, redisTimeoutMs: 5000, ...coordinatorOptions });
    const rec = new StreamingRecognizer({
      logger: { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) },
      providers: [
        new RtzrProvider({ apiBase: rtzr.apiBase, ...rtzr.credentials, ...rtzrOptions }),
        new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey }),
      ],
      coordinator,
      fallback: { recoveryCooldownMs: 300 },
    });
    recognizers.push(rec);
    const events: CoordinatorEvent[] = [];
    const availability: AvailabilityEvent[] = [];
    rec.on('coordinator', (e) => events.push(e));
    rec.on('availability', (e) => availability.push(e));
    return { rec, coordinator, events, availability, rtzr: rec.providers[0] as RtzrProvider };
  }

  function call(rec: StreamingRecognizer, tag: string) {
    const stream = rec.stream({ audio: MULAW, language: `ko-KR-x-${tag}` });
    const fallbacks: FallbackEvent[] = [];
    stream.on('fallback', (e) => fallbacks.push(e));
    const opened = new Promise<string>((resolve) => stream.once('open', (e) => resolve(e.provider)));
    return {
      stream,
      fallbacks,
      opened,
      play: async (speed: number | 'fast'): Promise<StreamSummary> => {
        if (speed === 'fast') await writeCall(stream);
        else await playCall(stream, speed);
        return stream.end();
      },
    };
  }

  const expectAllWords = (s: StreamSummary) => {
    expect(s.error).toBeUndefined();
    expect(s.transcripts.map((t) => t.text)).toEqual(script);
  };

  it('two servers share one budget: the fleet never exceeds it and RTZR sees no 429', async () => {
    await setup(3);
    const a = server({ maxConcurrent: 3 });
    const b = server({ maxConcurrent: 3 });
    const calls = [call(a.rec, 'a1'), call(b.rec, 'b1'), call(a.rec, 'a2')];
    expect(await Promise.all(calls.map((c) => c.opened))).toEqual(['rtzr', 'rtzr', 'rtzr']);
    const over = [call(b.rec, 'b2'), call(a.rec, 'a3')];
    expect(await Promise.all(over.map((c) => c.opened))).toEqual(['google', 'google']);
    for (const c of over) expect(c.fallbacks[0]!.reason.code).toBe('RATE_LIMITED');
    const summaries = await Promise.all([...calls, ...over].map((c) => c.play(4)));
    summaries.forEach(expectAllWords);
    expect(rtzr.counters.peakOpenConnections).toBe(3);
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
    expect(a.rec.isAvailable('rtzr') && b.rec.isAvailable('rtzr')).toBe(true);
    // leases are back in Redis once the sockets closed
    const probe = client();
    await expect.poll(() => probe.zcard(slotsKey(namespace, rtzr))).toBe(0);
  });

  it('one authenticate request for the fleet; a handshake 401 replaces the shared token once, not per server', async () => {
    await setup(10, { latency: { authMs: 100 } });
    const servers = [server(), server(), server()];
    await Promise.all(servers.map((s) => s.rec.warmup()));
    expect(rtzr.counters.authRequests).toBe(1);
    expect(servers.reduce((k, s) => k + s.rtzr.stats.fleetTokens, 0)).toBe(2);
    // RTZR revokes the token: each server's next handshake gets a 401; only one refreshes for the fleet
    rtzr.faults.expireTokens();
    const calls = servers.map((s, i) => call(s.rec, `x${i}`));
    const summaries = await Promise.all(calls.map((c) => c.play('fast')));
    summaries.forEach(expectAllWords);
    expect(rtzr.counters.authRequests).toBe(2);
    expect(servers.reduce((k, s) => k + s.rtzr.stats.authRetries, 0)).toBe(3);
  });

  it('health is shared: a provider one server saw fail is skipped by the others until one probe brings it back', async () => {
    await setup(10);
    const a = server({}, { syncIntervalMs: 100 });
    const b = server({}, { syncIntervalMs: 100 });
    await Promise.all([a.rec.warmup(), b.rec.warmup()]);
    rtzr.faults.rejectConnections(503, 1000); // RTZR is down
    const first = call(a.rec, 'h1');
    expect(await first.opened).toBe('google');
    expectAllWords(await first.play('fast'));
    await expect.poll(() => b.rec.isAvailable('rtzr')).toBe(false);
    expect(b.availability).toEqual([expect.objectContaining({ provider: 'rtzr', available: false })]);
    // b never tries RTZR while the fleet says it is down: Google first
    const before = rtzr.counters.rejectedConnections;
    const second = call(b.rec, 'h2');
    expect(await second.opened).toBe('google');
    expectAllWords(await second.play('fast'));
    expect(rtzr.counters.rejectedConnections).toBe(before);
    // RTZR recovers; one probe (by one server) brings it back for both
    rtzr.faults.reset();
    const probesBefore = rtzr.counters.connections;
    await expect.poll(() => a.rec.isAvailable('rtzr') && b.rec.isAvailable('rtzr'), { timeout: 10_000 }).toBe(true);
    expect(rtzr.counters.connections - probesBefore).toBe(1);
  });

  it('Redis down mid-call: no call fails, new calls start, one warning per outage, `coordinator` events, coordination resumes', async () => {
    await setup(2);
    const warnings: string[] = [];
    const a = server({ maxConcurrent: 2, leaseTtlMs: 2000 }, { redisTimeoutMs: 1000 }, warnings); // a killed Redis fails fast
    const live = call(a.rec, 'r1');
    expect(await live.opened).toBe('rtzr');
    const playing = live.play(1);
    await new Promise((r) => setTimeout(r, 1500));
    await redis.kill();
    // a new call while Redis is gone: the server carries on alone (its own budget of 2)
    const during = call(a.rec, 'r2');
    expect(await during.opened).toBe('rtzr');
    await expect.poll(() => a.events.length).toBeGreaterThanOrEqual(1);
    expect(a.events[0]).toMatchObject({ available: false, coordinator: 'redis' });
    expect(a.rec.coordinatorAvailable).toBe(false);
    const third = call(a.rec, 'r3'); // the local budget is full too: falls back at once, no 429
    expect(await third.opened).toBe('google');
    await redis.restart();
    await expect.poll(() => a.rec.coordinatorAvailable, { timeout: 10_000 }).toBe(true);
    expect(a.events.map((e) => e.available)).toEqual([false, true]);
    const [s1, s2, s3] = await Promise.all([playing, during.play('fast'), third.play('fast')]);
    for (const s of [s1!, s2!, s3!]) expectAllWords(s);
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
    expect(warnings.filter((w) => w.startsWith('coordinator unavailable'))).toHaveLength(1);
  });

  it('a Redis that stops answering (SIGSTOP) is given redisTimeoutMs, then the call goes on alone', async () => {
    await setup(2);
    const a = server({ maxConcurrent: 2 }, { redisTimeoutMs: 300 });
    await a.rec.warmup();
    const before = a.events.length; // a verdict tripped by a busy machine before the pause would show here
    redis.pause(true);
    try {
      const c = call(a.rec, 's1');
      expect(await c.opened).toBe('rtzr');
      await expect.poll(() => a.events.length).toBeGreaterThan(before);
      expect(a.events.at(-1)).toMatchObject({ available: false, coordinator: 'redis', reason: expect.stringContaining('took longer than 300 ms') });
      redis.pause(false);
      await expect.poll(() => a.rec.coordinatorAvailable, { timeout: 10_000 }).toBe(true);
      expectAllWords(await c.play('fast'));
    } finally {
      redis.pause(false);
    }
  });

  it('a lease lives as long as its socket: renewed every third of leaseTtlMs', async () => {
    await setup(2);
    const a = server({ maxConcurrent: 2, leaseTtlMs: 1000 });
    const c = call(a.rec, 'l1');
    const finals: number[] = [];
    c.stream.on('final', (t) => finals.push(t.utteranceId));
    expect(await c.opened).toBe('rtzr');
    const playing = c.play(2);
    // the third final comes more than 3 s after the call opened (over three TTLs): the lease is still counted
    await expect.poll(() => finals.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const probe = client();
    expect(await probe.zcount(slotsKey(namespace, rtzr), `(${Date.now() - 1000}`, '+inf')).toBe(1);
    expectAllWords(await playing);
    await expect.poll(() => probe.zcard(slotsKey(namespace, rtzr))).toBe(0);
  });

  it('leases taken while Redis was gone join the fleet count when it is back', async () => {
    await setup(3);
    const a = server({ maxConcurrent: 3 }, { redisTimeoutMs: 1000 });
    await a.rec.warmup();
    await redis.kill();
    const c1 = call(a.rec, 'j1');
    expect(await c1.opened).toBe('rtzr');
    expect(a.rec.coordinatorAvailable).toBe(false);
    await redis.restart(); // an empty Redis: the lease of c1 exists only in the process
    await expect.poll(() => a.rec.coordinatorAvailable, { timeout: 10_000 }).toBe(true);
    const probe = client();
    await expect.poll(() => probe.zcard(slotsKey(namespace, rtzr))).toBe(1);
    // another server now sees 1 of 3 slots taken
    const b = server({ maxConcurrent: 3 });
    const calls = [call(b.rec, 'j2'), call(b.rec, 'j3'), call(b.rec, 'j4')];
    expect(await Promise.all(calls.map((c) => c.opened))).toEqual(['rtzr', 'rtzr', 'google']);
    const all = await Promise.all([c1, ...calls].map((c) => c.play('fast')));
    all.forEach(expectAllWords);
    expect(rtzr.counters.rateLimitedConnections).toBe(0);
  });

  it('a lease that is not renewed expires after leaseTtlMs (a crashed server gives its slot back)', async () => {
    await setup(1);
    const coordinator = new RedisCoordinator({ redis: client(), namespace });
    const slot = await coordinator.tryAcquireSlot('crash-test', 1, 1000);
    expect(slot).toBeDefined();
    expect(await coordinator.tryAcquireSlot('crash-test', 1, 1000)).toBeUndefined();
    expect(await coordinator.countSlots('crash-test', 1000)).toBe(1);
    // never renewed, never released: gone after its TTL
    await expect.poll(() => coordinator.countSlots('crash-test', 1000), { timeout: 5000 }).toBe(0);
    const again = await coordinator.tryAcquireSlot('crash-test', 1, 1000);
    expect(again).toBeDefined();
    expect(await slot!.renew()).toBe(false);
    await again!.release();
  });

  it('token compare-and-delete only deletes the token it was given; keys use the namespace as a Cluster hash tag', async () => {
    await setup(1);
    const c = client();
    const coordinator = new RedisCoordinator({ redis: c, namespace });
    const t = { token: 'tok-1', expiresAtMs: Date.now() + 60_000, fetchedAtMs: Date.now() };
    await coordinator.putToken('acct', t);
    expect(await c.exists(`{${namespace}}:token:acct`)).toBe(1);
    const ttl = await c.pttl(`{${namespace}}:token:acct`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    await coordinator.deleteToken('acct', 'tok-0');
    expect(await coordinator.getToken('acct')).toEqual(t);
    await coordinator.deleteToken('acct', 'tok-1');
    expect(await coordinator.getToken('acct')).toBeUndefined();
    const lock = await coordinator.tryLock('token:acct', 5000);
    expect(lock).toBeDefined();
    expect(await coordinator.tryLock('token:acct', 5000)).toBeUndefined();
    expect(await c.exists(`mutex:{${namespace}}:lock:token:acct`)).toBe(1);
    await lock!.release();
    expect(await c.exists(`mutex:{${namespace}}:lock:token:acct`)).toBe(0);
  });

  it('rejects a missing client and a bad namespace with ConfigurationError; never shows the client in inspect()', async () => {
    await setup(1);
    expect(() => new RedisCoordinator({} as never)).toThrow(ConfigurationError);
    expect(() => new RedisCoordinator({ redis: client(), namespace: 'a b' })).toThrow(ConfigurationError);
    const { inspect } = await import('node:util');
    const c = new Redis({ host: '127.0.0.1', port: redis.port, password: 'hunter2-secret', lazyConnect: true });
    const coordinator = new RedisCoordinator({ redis: c, namespace });
    expect(inspect(coordinator, { depth: 10 })).not.toContain('hunter2-secret');
    expect(JSON.stringify(coordinator)).not.toContain('hunter2-secret');
    c.disconnect();
  });
});

/** The budget key of the RTZR emulator's account (as docs/fleet.md documents the layout). */
function slotsKey(namespace: string, emulator: RtzrEmulator): string {
  const account = createHash('sha256').update(`${emulator.apiBase}\n${emulator.credentials.clientId}`).digest('hex').slice(0, 16);
  return `semaphore:{${namespace}}:slots:rtzr:${account}`;
}
