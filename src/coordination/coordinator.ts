/**
 * The `Coordinator` contract: the shared state a fleet of processes needs so
 * that they behave like one client of a provider (see docs/fleet.md).
 *
 * - **Slots** of a provider's concurrency budget (`maxConcurrent`, e.g. RTZR's
 *   channels per organisation), held as leases with a TTL so a crashed process
 *   gives them back.
 * - **A token** per credential set, written by one refresher under a lock.
 * - **Health** of each provider, so a provider one process saw fail is skipped
 *   by all until one probe brings it back.
 *
 * Two implementations ship: {@link LocalCoordinator} (in-process; what a
 * recognizer uses without a coordinator) and `RedisCoordinator` (a fleet).
 * Implementations are storage only: the library adds the timeouts
 * (`timeoutMs`), carries on alone when a call fails or is late, and rejoins
 * when `ping()` answers again, so a coordinator's trouble never fails a call.
 * Methods may reject on transport errors; they are never given secrets other
 * than the shared access token itself.
 * @module
 */

/** A held slot of a concurrency budget. */
export interface CoordinatorSlot {
  /**
   * Extend the lease by its TTL from now. Resolves `false` when the lease is gone (it expired, e.g.
   * after the process could not reach the coordinator for longer than the TTL).
   */
  renew(): Promise<boolean>;
  /** Give the slot back. Idempotent. */
  release(): Promise<void>;
}

/** A held lock (token refresh, recovery probe). */
export interface CoordinatorLock {
  /** Release the lock if this holder still owns it. Idempotent. */
  release(): Promise<void>;
}

/** An access token shared by the fleet. */
export interface SharedToken {
  /** The bearer token. Never logged. */
  token: string;
  /** Absolute expiry, epoch ms. */
  expiresAtMs: number;
  /** When it was fetched, epoch ms. */
  fetchedAtMs: number;
}

/** A provider's availability as the fleet sees it. */
export interface SharedHealth {
  /** Whether the provider takes new streams. */
  available: boolean;
  /** When this state was written, epoch ms. */
  changedAtMs: number;
  /** While unavailable: the earliest time of the next recovery probe, epoch ms. */
  nextProbeAtMs?: number;
  /** While unavailable: the current probe cooldown, ms (doubles after each failed probe). */
  cooldownMs?: number;
  /** While unavailable: why (error code and message; messages never contain secrets). */
  reason?: {
    /** The {@link SttErrorCode} of the failure that made it unavailable. */
    code: string;
    /** Its message. */
    message: string;
  };
}

/**
 * Shared state for fleet coordination. `resource` names are built by the library (provider id, a
 * hash of the credentials); an implementation maps them to its own keys.
 */
export interface Coordinator {
  /** Short name for logs and events (`'local'`, `'redis'`). */
  readonly name: string;
  /** The time budget of each call, ms: a call that takes longer counts as the coordinator being unavailable. */
  readonly timeoutMs: number;
  /** How often the library re-reads shared provider health, ms. */
  readonly syncIntervalMs: number;
  /**
   * Take one slot of `resource` if fewer than `limit` unexpired leases are held (fleet-wide); never
   * waits. The lease expires `ttlMs` after it was taken or last renewed.
   * @returns the slot, or `undefined` when the budget is full.
   */
  tryAcquireSlot(resource: string, limit: number, ttlMs: number): Promise<CoordinatorSlot | undefined>;
  /** Unexpired leases of `resource` held now, fleet-wide. */
  countSlots(resource: string, ttlMs: number): Promise<number>;
  /** Take the lock `name` for `ttlMs` if nobody holds it; never waits. */
  tryLock(name: string, ttlMs: number): Promise<CoordinatorLock | undefined>;
  /** The shared token of `resource`, if any (expired ones may be returned; the caller checks). */
  getToken(resource: string): Promise<SharedToken | undefined>;
  /** Store the token of `resource` until it expires. Called while holding the refresh lock. */
  putToken(resource: string, token: SharedToken): Promise<void>;
  /** Delete the token of `resource` if it is still `token` (compare-and-delete). Called while holding the refresh lock. */
  deleteToken(resource: string, token: string): Promise<void>;
  /** The shared health of `resource`, if any was published. */
  getHealth(resource: string): Promise<SharedHealth | undefined>;
  /** Publish the health of `resource`. */
  putHealth(resource: string, health: SharedHealth): Promise<void>;
  /** Resolves when the coordinator answers (used to rejoin after an outage). */
  ping(): Promise<void>;
}
