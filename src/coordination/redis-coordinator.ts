/**
 * `RedisCoordinator`: fleet coordination through Redis, for every process of
 * an app that uses the same Redis and `namespace` (see docs/fleet.md).
 *
 * You pass your own `ioredis` client (standalone, Sentinel or Cluster; both
 * `ioredis` and `redis-semaphore` are optional peer dependencies: install them
 * to use this class). Budget leases are `redis-semaphore` semaphores (a sorted
 * set per budget, scores are the holders' last renewal times), locks are its
 * mutexes; tokens and health are plain JSON strings with a TTL.
 *
 * Key layout (`{ns}` is the namespace as a Cluster hash tag, so every key of a
 * namespace lives in one slot):
 *
 * | key | type | what |
 * |---|---|---|
 * | `semaphore:{ns}:slots:<budget>` | sorted set | one member per lease (score: last renewal, epoch ms) |
 * | `{ns}:token:<account>` | string (JSON), PX until expiry | the shared access token |
 * | `mutex:{ns}:lock:token:<account>` | string, PX | the token refresh lock |
 * | `{ns}:health:<provider>` | string (JSON), PX 15 min | the provider's shared health |
 * | `mutex:{ns}:lock:probe:<provider>` | string, PX | the recovery probe lock |
 *
 * `<budget>` and `<account>` are `rtzr:<hash of the REST base and client id>`
 * for RTZR (never the secret), `provider:<id>` for other providers' budgets.
 * @module
 */
import { ConfigurationError } from '../errors/index.js';
import type { Coordinator, CoordinatorLock, CoordinatorSlot, SharedHealth, SharedToken } from './coordinator.js';

/**
 * A command method of a Redis client, e.g. `redis.get(key)`: any arguments, resolves with the
 * reply. Loosely typed so that `ioredis`'s overloads fit.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RedisCommand = (...args: any[]) => Promise<any>;

/**
 * The client `RedisCoordinator` needs: an `ioredis` `Redis` or `Cluster` instance (any client with
 * the same command methods works).
 */
export interface RedisClientLike {
  /** [`GET`](https://redis.io/docs/latest/commands/get/) key: reads the shared token and health. */
  get: RedisCommand;
  /** [`SET`](https://redis.io/docs/latest/commands/set/) key value `PX` ms: writes the shared token and health. */
  set: RedisCommand;
  /** [`DEL`](https://redis.io/docs/latest/commands/del/) key: drops a shared token the provider rejected. */
  del: RedisCommand;
  /** [`EVAL`](https://redis.io/docs/latest/commands/eval/): `redis-semaphore`'s lease and lock scripts. */
  eval: RedisCommand;
  /** [`EVALSHA`](https://redis.io/docs/latest/commands/evalsha/): the same scripts by their SHA-1. */
  evalsha: RedisCommand;
  /** [`ZREM`](https://redis.io/docs/latest/commands/zrem/): `redis-semaphore` releasing a lease. */
  zrem: RedisCommand;
  /** [`ZCOUNT`](https://redis.io/docs/latest/commands/zcount/) key min max: counts a budget's live leases. */
  zcount: RedisCommand;
  /** [`PING`](https://redis.io/docs/latest/commands/ping/): `ready()`, and the check that Redis answers again after a failure. */
  ping: RedisCommand;
}

/** Options of {@link RedisCoordinator}. */
export interface RedisCoordinatorOptions {
  /** Your `ioredis` client (`new Redis(url)`, a Sentinel set-up, or `new Cluster(nodes)`). Not closed by the library. */
  redis: RedisClientLike;
  /**
   * Prefix of every key, and the Cluster hash tag: processes share state when they use the same
   * Redis and namespace. Letters, digits, `._:-` only. Default `'streaming-stt'`.
   */
  namespace?: string;
  /**
   * Each Redis call may take this long, ms; a call that fails or takes longer makes the process carry
   * on alone (its own budget and token) until Redis answers a ping again. Default 200.
   */
  redisTimeoutMs?: number;
  /** How often each process re-reads the fleet's provider health, ms. Default 1000. */
  syncIntervalMs?: number;
}

/** What the library uses of `redis-semaphore`. */
interface LockLike {
  readonly identifier: string;
  tryAcquire(): Promise<boolean>;
  release(): Promise<void>;
}
interface SemaphoreLib {
  Semaphore: new (client: RedisClientLike, key: string, limit: number, options: Record<string, unknown>) => LockLike;
  Mutex: new (client: RedisClientLike, key: string, options: Record<string, unknown>) => LockLike;
}

const HEALTH_TTL_MS = 15 * 60_000;
const NAMESPACE = /^[A-Za-z0-9._:-]{1,100}$/;
const noop = (): void => {};

let library: Promise<SemaphoreLib> | undefined;

/** `redis-semaphore`, loaded on first use (an optional peer dependency). */
function loadSemaphoreLibrary(): Promise<SemaphoreLib> {
  library ??= import('redis-semaphore').then(
    (m: unknown) => {
      const mod = m as Partial<SemaphoreLib> & { default?: Partial<SemaphoreLib> };
      const lib = mod.Semaphore ? mod : mod.default;
      if (!lib?.Semaphore || !lib.Mutex) throw new Error('unexpected module shape');
      return lib as SemaphoreLib;
    },
    (err: unknown) => {
      library = undefined;
      throw new ConfigurationError(
        'RedisCoordinator needs the optional peer dependency redis-semaphore (npm install ioredis redis-semaphore)',
        { cause: err },
      );
    },
  );
  return library;
}

/**
 * Fleet coordination through Redis: one concurrency budget per provider, one access token, one view
 * of provider health, for every process on the same Redis and namespace.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * const recognizer = new StreamingRecognizer({
 *   providers: [new RtzrProvider({ maxConcurrent: 20 }), new GoogleProvider()],
 *   coordinator: new RedisCoordinator({ redis: new Redis(process.env.REDIS_URL), namespace: 'stt' }),
 * });
 * ```
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) from the constructor for a missing client or a bad option.
 */
export class RedisCoordinator implements Coordinator {
  readonly name = 'redis';
  readonly timeoutMs: number;
  readonly syncIntervalMs: number;
  /** The namespace (also the Cluster hash tag). */
  readonly namespace: string;
  /** ES-private, so `util.inspect()` never shows the client's options (they may hold a password). */
  readonly #redis: RedisClientLike;
  readonly #prefix: string;

  constructor(options: RedisCoordinatorOptions) {
    const redis = options?.redis;
    if (!redis || typeof redis !== 'object' || typeof redis.evalsha !== 'function' || typeof redis.get !== 'function') {
      throw new ConfigurationError('RedisCoordinator needs `redis`: an ioredis client (new Redis(url) or new Cluster(nodes))');
    }
    const namespace = options.namespace ?? 'streaming-stt';
    if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) {
      throw new ConfigurationError('RedisCoordinator: namespace must be 1–100 characters of letters, digits and ._:-');
    }
    const timeoutMs = options.redisTimeoutMs ?? 200;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ConfigurationError('RedisCoordinator: redisTimeoutMs must be an integer >= 1');
    const syncIntervalMs = options.syncIntervalMs ?? 1000;
    if (!Number.isInteger(syncIntervalMs) || syncIntervalMs < 50) {
      throw new ConfigurationError('RedisCoordinator: syncIntervalMs must be an integer >= 50');
    }
    this.#redis = redis;
    this.namespace = namespace;
    this.#prefix = `{${namespace}}`;
    this.timeoutMs = timeoutMs;
    this.syncIntervalMs = syncIntervalMs;
    void loadSemaphoreLibrary().catch(noop); // start loading; errors surface from ready() and the first call
  }

  /**
   * Resolves when `redis-semaphore` is loaded and Redis answers. Optional: call it at start-up to fail
   * fast. Rejects with a `ConfigurationError` when `redis-semaphore` is not installed, or with the
   * client's error when Redis does not answer.
   */
  async ready(): Promise<void> {
    await loadSemaphoreLibrary();
    await this.#redis.ping();
  }

  async tryAcquireSlot(resource: string, limit: number, ttlMs: number): Promise<CoordinatorSlot | undefined> {
    const { Semaphore } = await loadSemaphoreLibrary();
    const redis = this.#redis;
    const key = this.slotsKey(resource);
    const base = { lockTimeout: ttlMs, acquireAttemptsLimit: 1, retryInterval: 0, refreshInterval: 0, onLockLost: noop };
    const semaphore = new Semaphore(redis, key, limit, base);
    if (!(await semaphore.tryAcquire())) return undefined;
    return {
      // renewal of a lease taken by another object: redis-semaphore's documented `acquiredExternally`
      renew: () =>
        new Semaphore(redis, key, limit, { ...base, identifier: semaphore.identifier, acquiredExternally: true }).tryAcquire(),
      release: () => semaphore.release(),
    };
  }

  async countSlots(resource: string, ttlMs: number): Promise<number> {
    return Number(await this.#redis.zcount(`semaphore:${this.slotsKey(resource)}`, `(${Date.now() - ttlMs}`, '+inf'));
  }

  async tryLock(name: string, ttlMs: number): Promise<CoordinatorLock | undefined> {
    const { Mutex } = await loadSemaphoreLibrary();
    const mutex = new Mutex(this.#redis, `${this.#prefix}:lock:${name}`, {
      lockTimeout: ttlMs,
      acquireAttemptsLimit: 1,
      retryInterval: 0,
      refreshInterval: 0,
      onLockLost: noop,
    });
    if (!(await mutex.tryAcquire())) return undefined;
    return { release: () => mutex.release() };
  }

  async getToken(resource: string): Promise<SharedToken | undefined> {
    const t = parse<SharedToken>(await this.#redis.get(this.tokenKey(resource)));
    return t && typeof t.token === 'string' && typeof t.expiresAtMs === 'number' ? t : undefined;
  }

  async putToken(resource: string, token: SharedToken): Promise<void> {
    const ttl = Math.floor(token.expiresAtMs - Date.now());
    if (ttl < 1) return;
    await this.#redis.set(this.tokenKey(resource), JSON.stringify(token), 'PX', ttl);
  }

  async deleteToken(resource: string, token: string): Promise<void> {
    // compare-and-delete: every writer holds the refresh lock, so read-compare-delete cannot race a write
    const key = this.tokenKey(resource);
    const current = parse<SharedToken>(await this.#redis.get(key));
    if (current?.token === token) await this.#redis.del(key);
  }

  async getHealth(resource: string): Promise<SharedHealth | undefined> {
    const h = parse<SharedHealth>(await this.#redis.get(`${this.#prefix}:${resource}`));
    return h && typeof h.available === 'boolean' && typeof h.changedAtMs === 'number' ? h : undefined;
  }

  async putHealth(resource: string, health: SharedHealth): Promise<void> {
    await this.#redis.set(`${this.#prefix}:${resource}`, JSON.stringify(health), 'PX', HEALTH_TTL_MS);
  }

  async ping(): Promise<void> {
    await loadSemaphoreLibrary();
    await this.#redis.ping();
  }

  /** The key given to `redis-semaphore` (it prefixes `semaphore:`). */
  private slotsKey(resource: string): string {
    return `${this.#prefix}:slots:${resource}`;
  }

  private tokenKey(resource: string): string {
    return `${this.#prefix}:token:${resource}`;
  }
}

function parse<T>(text: unknown): T | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
