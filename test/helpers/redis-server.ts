/**
 * A real Redis for the fleet tests: Debian's `redis-server`, started by the test itself on a free
 * loopback port with persistence off, stopped after. Without `redis-server` on the PATH the tests
 * that need it are skipped with a printed reason (`.ci/run` installs it).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Path of `redis-server`, or undefined when it is not installed. */
export const redisServerPath: string | undefined = (() => {
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : undefined;
})();

/**
 * Skip the real-Redis tests: only when `redis-server` is missing outside CI. In CI (`CI` set) they
 * run and fail loudly instead, so a missing install step can never pass as a green run.
 */
export const skipRedisTests = !redisServerPath && !process.env.CI;

export const noRedisReason =
  'redis-server is not installed: the real-Redis fleet tests are skipped (apt-get install redis-server, as .ci/run does, to run them)';

/** Print why the Redis tests of a file are skipped (vitest shows them as skipped; this says why). */
export function explainSkip(file: string): void {
  if (skipRedisTests) console.warn(`SKIPPED ${file}: ${noRedisReason}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A running `redis-server` of a test. */
export class RedisServer {
  private proc: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** Start on a free loopback port (persistence off). */
  static async start(): Promise<RedisServer> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new RedisServer(await freePort());
      try {
        await server.restart();
        return server;
      } catch (err) {
        lastError = err;
        await server.kill();
      }
    }
    throw lastError;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** (Re)start on the same port; resolves when it answers PING. */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('redis-server is already running');
    const proc = spawn(
      redisServerPath ?? 'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', '--protected-mode', 'yes'],
      { stdio: 'ignore' },
    );
    this.proc = proc;
    let exited = false;
    proc.once('exit', () => {
      exited = true;
      if (this.proc === proc) this.proc = undefined;
    });
    const probe = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      for (let i = 0; i < 200; i++) {
        if (exited) throw new Error(`redis-server exited at start (port ${this.port} taken?)`);
        try {
          if (probe.status !== 'ready') await probe.connect();
          await probe.ping();
          return;
        } catch {
          probe.disconnect();
          await new Promise((r) => setTimeout(r, 25));
        }
      }
      throw new Error('redis-server did not answer');
    } finally {
      probe.disconnect();
    }
  }

  /** SIGKILL (a crash: no clean shutdown), resolves when it has exited. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP / SIGCONT: a Redis that does not answer (slow), without closing sockets. */
  pause(on: boolean): void {
    this.proc?.kill(on ? 'SIGSTOP' : 'SIGCONT');
  }

  /** Stop (SIGTERM, then SIGKILL after 3 s). Idempotent. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    const gone = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill('SIGCONT');
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
}
