/**
 * `LocalCoordinator`: the {@link Coordinator} contract in process memory.
 *
 * A recognizer without a `coordinator` keeps its budget, token and health per
 * process (the library's default behaviour). Pass one `LocalCoordinator` to
 * several recognizers of one process to make them share one budget, one token
 * and one view of provider health; use `RedisCoordinator` to share across
 * processes.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { Coordinator, CoordinatorLock, CoordinatorSlot, SharedHealth, SharedToken } from './coordinator.js';

/** Options of {@link LocalCoordinator}. */
export interface LocalCoordinatorOptions {
  /** How often recognizers re-read shared provider health, ms. Default 1000. */
  syncIntervalMs?: number;
  /** Clock, epoch ms (tests). Default `Date.now`. */
  now?: () => number;
}

/**
 * In-process coordinator: leases expire on their TTL like Redis ones, locks too.
 *
 * @example
 * ```ts
 * const shared = new LocalCoordinator();
 * const a = new StreamingRecognizer({ providers: [new RtzrProvider({ maxConcurrent: 5 })], coordinator: shared });
 * const b = new StreamingRecognizer({ providers: [new RtzrProvider({ maxConcurrent: 5 })], coordinator: shared });
 * ```
 */
export class LocalCoordinator implements Coordinator {
  readonly name = 'local';
  readonly timeoutMs = 200;
  readonly syncIntervalMs: number;
  private readonly now: () => number;
  /** resource → lease id → expiry (epoch ms) */
  private readonly slots = new Map<string, Map<string, number>>();
  /** lock name → holder id and expiry */
  private readonly locks = new Map<string, { id: string; expiresAtMs: number }>();
  /** ES-private: never shown by `util.inspect()` or `JSON.stringify()`. */
  readonly #tokens = new Map<string, SharedToken>();
  private readonly health = new Map<string, SharedHealth>();

  constructor(options: LocalCoordinatorOptions = {}) {
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
    this.now = options.now ?? Date.now;
  }

  async tryAcquireSlot(resource: string, limit: number, ttlMs: number): Promise<CoordinatorSlot | undefined> {
    const leases = this.leases(resource);
    if (leases.size >= limit) return undefined;
    const id = randomUUID();
    leases.set(id, this.now() + ttlMs);
    return {
      renew: async () => {
        const live = this.leases(resource);
        if (!live.has(id)) return false;
        live.set(id, this.now() + ttlMs);
        return true;
      },
      release: async () => {
        this.slots.get(resource)?.delete(id);
      },
    };
  }

  async countSlots(resource: string, _ttlMs?: number): Promise<number> {
    return this.leases(resource).size;
  }

  async tryLock(name: string, ttlMs: number): Promise<CoordinatorLock | undefined> {
    const held = this.locks.get(name);
    if (held && held.expiresAtMs > this.now()) return undefined;
    const id = randomUUID();
    this.locks.set(name, { id, expiresAtMs: this.now() + ttlMs });
    return {
      release: async () => {
        if (this.locks.get(name)?.id === id) this.locks.delete(name);
      },
    };
  }

  async getToken(resource: string): Promise<SharedToken | undefined> {
    const t = this.#tokens.get(resource);
    return t ? { ...t } : undefined;
  }

  async putToken(resource: string, token: SharedToken): Promise<void> {
    this.#tokens.set(resource, { ...token });
  }

  async deleteToken(resource: string, token: string): Promise<void> {
    if (this.#tokens.get(resource)?.token === token) this.#tokens.delete(resource);
  }

  async getHealth(resource: string): Promise<SharedHealth | undefined> {
    const h = this.health.get(resource);
    return h ? structuredClone(h) : undefined;
  }

  async putHealth(resource: string, health: SharedHealth): Promise<void> {
    this.health.set(resource, structuredClone(health));
  }

  async ping(): Promise<void> {}

  /** Unexpired leases of a resource (expired ones are dropped). */
  private leases(resource: string): Map<string, number> {
    let m = this.slots.get(resource);
    if (!m) this.slots.set(resource, (m = new Map()));
    const now = this.now();
    for (const [id, exp] of m) if (exp <= now) m.delete(id);
    return m;
  }
}
