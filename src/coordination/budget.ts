/**
 * A provider's concurrency budget (`maxConcurrent`): a lease per open
 * connection, taken before the handshake and given back when the socket
 * closes.
 *
 * - With a coordinator that answers, leases live there (fleet-wide count,
 *   TTL `leaseTtlMs`, renewed every third of it while held).
 * - Without one, or while it does not answer, the budget is this process's
 *   own: at most `maxConcurrent` leases held here. Leases taken meanwhile are
 *   registered with the coordinator when it answers again, where the fleet
 *   has room for them.
 * - A full budget rejects at once with a {@link RateLimitError} (the stream
 *   falls back without knocking on the provider), or after waiting up to
 *   `queueTimeoutMs` for a slot.
 * - Pre-warm leases (`reserve > 0`) are only granted while `reserve` slots stay
 *   free after them, so idle sockets never take the last slots of live calls.
 * @module
 * @internal
 */
import { AbortError, ConfigurationError, RateLimitError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { CoordinatorSlot } from './coordinator.js';
import { CoordinatorLink } from './link.js';

/** Default lease TTL, ms. */
export const DEFAULT_LEASE_TTL_MS = 15_000;

/**
 * Concurrency options shared by every provider (the provider base): how many connections the
 * provider may have open at once, across the fleet when the recognizer has a `coordinator`.
 */
export interface ConcurrencyOptions {
  /**
   * Connections open at once (streams, pre-warmed sockets, recovery probes), at most. Default: no limit.
   * RTZR: your plan's concurrent channels per organisation (5 on Free, 20 on Basic;
   * https://developers.rtzr.ai/docs/en/rate_limit). With a `coordinator` the budget is fleet-wide.
   */
  maxConcurrent?: number;
  /**
   * A stream that finds the budget full waits this long for a slot before it falls back with a
   * `RateLimitError` (`RATE_LIMITED`), ms. Default 0: fall back at once.
   */
  queueTimeoutMs?: number;
  /**
   * Lease lifetime with a coordinator, ms (at least 1000). Renewed every third of it while the
   * connection is open; a process that dies without releasing gives its slots back after this long.
   * Default 15000.
   */
  leaseTtlMs?: number;
}

/**
 * A provider's validated {@link ConcurrencyOptions} with their defaults applied: what its read-only
 * `concurrency` property shows when `maxConcurrent` is set.
 */
export interface ResolvedConcurrency {
  /** Connections open at once, at most (an integer >= 1). */
  maxConcurrent: number;
  /** How long a stream waits for a free slot before it falls back, ms (0: at once). */
  queueTimeoutMs: number;
  /** Lease lifetime with a coordinator, ms (at least 1000). */
  leaseTtlMs: number;
}

/**
 * Validate the concurrency options of a provider; `undefined` when `maxConcurrent` is not set.
 * @throws {@link ConfigurationError} for a value out of range.
 * @internal
 */
export function resolveConcurrency(options: ConcurrencyOptions, provider: string): ResolvedConcurrency | undefined {
  const { maxConcurrent, queueTimeoutMs = 0, leaseTtlMs = DEFAULT_LEASE_TTL_MS } = options;
  if (!Number.isInteger(queueTimeoutMs) || queueTimeoutMs < 0) {
    throw new ConfigurationError('queueTimeoutMs must be an integer >= 0', { provider });
  }
  if (!Number.isInteger(leaseTtlMs) || leaseTtlMs < 1000) {
    throw new ConfigurationError('leaseTtlMs must be an integer >= 1000', { provider });
  }
  if (maxConcurrent === undefined) return undefined;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new ConfigurationError('maxConcurrent must be an integer >= 1', { provider });
  }
  return { maxConcurrent, queueTimeoutMs, leaseTtlMs };
}

const budgetRejections = new WeakSet<object>();

/**
 * True for the `RateLimitError` of a full budget (raised here, before any request to the provider):
 * it says nothing about the provider's health.
 * @internal
 */
export function isBudgetRejection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && budgetRejections.has(error);
}

/** How often a waiting acquire polls the coordinator, ms (local releases wake it sooner). */
const QUEUE_POLL_MS = 100;

/** One held slot. Released when the connection closes. @internal */
export class Lease {
  private released = false;
  /** @internal */
  constructor(
    private readonly budget: ConcurrencyBudget,
    /** The coordinator's slot, or undefined when held locally only. */
    public slot: CoordinatorSlot | undefined,
  ) {}

  /** Whether the fleet counts this lease (false: taken while the coordinator was unavailable). */
  get shared(): boolean {
    return this.slot !== undefined;
  }

  /** Give the slot back. Idempotent; never throws. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.released(this);
  }
}

/** @internal */
export interface ConcurrencyBudgetInit extends ResolvedConcurrency {
  provider: string;
  /** The coordinator's resource name of the budget. */
  resource: string;
  logger: () => Logger;
  /** Counters (shared with the provider's stats). */
  counters?: { budgetRejected: number; budgetWaits: number; leasesLost: number };
}

/** @internal */
export class ConcurrencyBudget {
  private link: CoordinatorLink;
  private readonly leases = new Set<Lease>();
  private waiters = new Set<() => void>();
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly init: ConcurrencyBudgetInit) {
    this.link = new CoordinatorLink(undefined, { logger: init.logger() });
  }

  get limit(): number {
    return this.init.maxConcurrent;
  }

  /** Leases this process holds now. */
  get held(): number {
    return this.leases.size;
  }

  /** Share the budget through `link` (the recognizer's coordinator). */
  attach(link: CoordinatorLink): void {
    this.unsubscribe?.();
    this.link = link;
    this.unsubscribe = link.onRejoin(() => void this.adoptLocalLeases());
  }

  /**
   * Take a slot. `reserve`: only if that many slots stay free after it (pre-warm); such an acquire
   * never waits. `waitMs`: wait this long for a slot (default `queueTimeoutMs`). Rejects with a
   * `RateLimitError` when the budget is full (see {@link isBudgetRejection}), or an `AbortError` when
   * `signal` fires while waiting.
   */
  async acquire(signal: AbortSignal, options: { reserve?: number; waitMs?: number } = {}): Promise<Lease> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.init.provider });
    const reserve = options.reserve ?? 0;
    const limit = this.init.maxConcurrent - reserve;
    const deadline = reserve > 0 ? 0 : performance.now() + (options.waitMs ?? this.init.queueTimeoutMs);
    let waited = false;
    for (;;) {
      if (signal.aborted) throw new AbortError('stream aborted while waiting for a slot', { provider: this.init.provider });
      const lease = limit > 0 ? await this.tryOnce(limit) : undefined;
      if (lease) {
        if (this.closed || signal.aborted) {
          lease.release();
          throw new AbortError(this.closed ? 'provider is closed' : 'stream aborted while waiting for a slot', {
            provider: this.init.provider,
          });
        }
        return lease;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw this.full(reserve, waited ? Math.round(options.waitMs ?? this.init.queueTimeoutMs) : 0);
      if (!waited && this.init.counters) this.init.counters.budgetWaits++;
      waited = true;
      await this.waitForRelease(Math.min(left, QUEUE_POLL_MS), signal);
    }
  }

  /** Slots free now: fleet-wide from the coordinator, else this process's own count. */
  async free(): Promise<number> {
    const r = await this.link.call('count slots', (c) => c.countSlots(this.init.resource, this.init.leaseTtlMs));
    const used = r.ok ? r.value : this.leases.size;
    return Math.max(0, this.init.maxConcurrent - used);
  }

  /** Stop renewing; leases still held are released when their connections close. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    for (const w of [...this.waiters]) w();
  }

  /** @internal A lease was released. */
  released(lease: Lease): void {
    this.leases.delete(lease);
    const slot = lease.slot;
    lease.slot = undefined;
    if (slot) void this.link.call('release slot', () => slot.release(), undefined, true);
    if (this.leases.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
    for (const w of [...this.waiters]) w();
  }

  private async tryOnce(limit: number): Promise<Lease | undefined> {
    const { resource, leaseTtlMs } = this.init;
    const r = await this.link.call(
      'acquire slot',
      (c) => c.tryAcquireSlot(resource, limit, leaseTtlMs),
      (late) => void late?.release().catch(() => {}),
    );
    let lease: Lease | undefined;
    if (r.ok) {
      if (r.value) lease = new Lease(this, r.value);
    } else if (this.leases.size < limit) {
      lease = new Lease(this, undefined); // alone: this process's own budget
    }
    if (!lease) return undefined;
    this.leases.add(lease);
    if (lease.slot) this.startHeartbeat();
    return lease;
  }

  private full(reserve: number, waitedMs: number): RateLimitError {
    const { provider, maxConcurrent } = this.init;
    if (reserve === 0 && this.init.counters) this.init.counters.budgetRejected++;
    const scope = this.link.available ? 'fleet-wide' : 'in this process';
    const err = new RateLimitError(
      reserve > 0
        ? `${provider}: no slot for a pre-warmed socket (keeping ${reserve} of ${maxConcurrent} free for calls)`
        : `${provider}: concurrency budget full (${maxConcurrent} connections ${scope}${waitedMs > 0 ? `, waited ${waitedMs} ms` : ''}); not connecting`,
      { provider, retryable: true },
    );
    budgetRejections.add(err);
    return err;
  }

  private waitForRelease(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private startHeartbeat(): void {
    if (this.heartbeat || this.closed) return;
    this.heartbeat = setInterval(() => void this.renewAll(), Math.max(250, Math.floor(this.init.leaseTtlMs / 3)));
    this.heartbeat.unref();
  }

  private async renewAll(): Promise<void> {
    for (const lease of [...this.leases]) {
      const slot = lease.slot;
      if (!slot) continue;
      const r = await this.link.call('renew slot', () => slot.renew());
      if (!r.ok) return; // unavailable: keep holding; renewed or re-registered when it answers again
      if (r.value || lease.slot !== slot) continue;
      // expired while held (the coordinator was unreachable for longer than the TTL): register again
      if (this.init.counters) this.init.counters.leasesLost++;
      lease.slot = undefined;
      this.init.logger().warn('lease expired while its connection was open; registering it again', {
        provider: this.init.provider,
      });
      await this.register(lease);
    }
  }

  /**
   * After an outage: renew at once (leases the coordinator lost meanwhile, e.g. a restarted Redis,
   * are registered again), then leases taken alone join the fleet's count where it has room.
   */
  private async adoptLocalLeases(): Promise<void> {
    await this.renewAll();
    for (const lease of [...this.leases]) if (!lease.slot) await this.register(lease);
  }

  private async register(lease: Lease): Promise<void> {
    const { resource, leaseTtlMs, maxConcurrent } = this.init;
    const r = await this.link.call(
      'acquire slot',
      (c) => c.tryAcquireSlot(resource, maxConcurrent, leaseTtlMs),
      (late) => void late?.release().catch(() => {}),
    );
    if (!r.ok || !r.value) return; // the fleet is full (or gone again): stays local until it closes
    if (!this.leases.has(lease)) {
      void r.value.release().catch(() => {});
      return;
    }
    lease.slot = r.value;
    this.startHeartbeat();
  }
}
