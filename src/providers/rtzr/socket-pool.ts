/**
 * A bounded pool of pre-warmed RTZR sockets for one wire URL: `count`
 * authenticated WebSockets opened ahead of demand, so a new call's first audio
 * leaves without a token request or a handshake on its critical path.
 *
 * - {@link SocketPool.take} hands out an open idle socket (the freshest) and
 *   opens its replacement in the background.
 * - An idle socket is recycled after `idleMs` (closed politely, then replaced
 *   once it has closed, so the pool never holds more than `count` channels of
 *   the provider's concurrency limit).
 * - A socket that dies while idle, or a handshake that fails, is replaced
 *   with bounded backoff: the first retry at once, then after 1, 2, 4, 8, 16 s;
 *   after that the pool stops trying until the next `take()` or `fill()`. A
 *   failure that carries `retryAfterMs` (a 429 with `Retry-After`) waits at
 *   least that long (at most {@link MAX_RETRY_AFTER_MS}).
 *   The backoff resets when a socket proves healthy (taken, or recycled at its
 *   full age). No promise of the pool is ever left unhandled.
 * - Idle sockets are pinged every `pingIntervalMs` (one timer per pool, only
 *   while sockets are idle), like sockets in use.
 * @module
 * @internal
 */
import WebSocket from 'ws';
import { AbortError, ConnectionError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';

/** Delay before retry round `n` (0-based), ms; the pool gives up after the last one. */
const RETRY_DELAYS_MS = [0, 1000, 2000, 4000, 8000, 16000] as const;
/** Longest `Retry-After` the pool honours before a retry, ms. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Counters a pool reports into (shared with the provider's `stats`). @internal */
export interface SocketPoolCounters {
  /** Streams served from the pool. */
  prewarmHits: number;
  /** Idle sockets closed at their idle age and replaced. */
  prewarmRecycled: number;
  /** Idle sockets that closed by themselves (server or network) and were replaced. */
  prewarmLost: number;
  /** Pool handshakes (or token requests) that failed. */
  prewarmFailures: number;
  /** Pool openings put off because the concurrency budget had no slot to spare (see `isDeferral`). */
  prewarmDeferred?: number;
  /** Idle sockets closed by {@link SocketPool.shed} to give their slots to calls. */
  prewarmShed?: number;
}

/** @internal */
export interface SocketPoolInit {
  provider: string;
  /** Sockets kept open. */
  count: number;
  /** Idle lifetime before recycling, ms. */
  idleMs: number;
  /** WebSocket ping interval for idle sockets, ms. */
  pingIntervalMs: number;
  /** Open one authenticated socket (token + handshake). Rejects with a typed error. */
  open(signal: AbortSignal): Promise<WebSocket>;
  /** The logger to use now. */
  logger(): Logger;
  counters: SocketPoolCounters;
  /**
   * Whether a failed `open` only means "not now" (no slot to spare in the concurrency budget): the
   * pool then tries again after `deferMs` without counting a failure or ever giving up.
   */
  isDeferral?(err: unknown): boolean;
  /** Delay before trying again after a deferral, ms. Default 1000. */
  deferMs?: number;
}

interface IdleSocket {
  ws: WebSocket;
  openedAt: number;
  timer: NodeJS.Timeout;
  onClose: (code: number) => void;
}

/** @internal */
export class SocketPool {
  private readonly idle: IdleSocket[] = [];
  /** Recycled sockets whose close handshake is under way. */
  private readonly closing = new Set<WebSocket>();
  private opening = 0;
  /** One controller per opening in flight, so {@link SocketPool.shed} can give up one. */
  private readonly openings = new Set<AbortController>();
  private round = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private gaveUp = false;
  private closed = false;
  private readonly controller = new AbortController();
  private waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly init: SocketPoolInit) {}

  /** Sockets this pool keeps open. */
  get count(): number {
    return this.init.count;
  }

  /** Idle lifetime before recycling, ms. */
  get idleMs(): number {
    return this.init.idleMs;
  }

  /** Open idle sockets ready to hand out. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Start filling (idempotent); re-arms a pool that gave up. */
  start(): void {
    if (this.closed) return;
    this.gaveUp = false;
    this.replenish();
  }

  /**
   * Fill the pool and wait until `count` sockets are idle. Rejects with the first failure of a
   * handshake or token request meanwhile (the pool keeps retrying in the background), or with an
   * `AbortError` when the pool closes.
   */
  fill(): Promise<void> {
    if (this.closed) return Promise.reject(new AbortError('provider is closed', { provider: this.init.provider }));
    this.start();
    if (this.idle.length >= this.init.count) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** An open idle socket (its replacement starts opening), or undefined when none is ready. */
  take(): WebSocket | undefined {
    while (this.idle.length > 0) {
      const entry = this.idle.pop()!;
      this.detach(entry);
      if (entry.ws.readyState === WebSocket.OPEN) {
        this.healthy();
        this.init.counters.prewarmHits++;
        this.replenish();
        return entry.ws;
      }
      entry.ws.terminate();
    }
    this.start();
    return undefined;
  }

  /**
   * Close up to `n` idle sockets (oldest first), then, with `openingToo`, abort openings in flight, to
   * free their slots for calls. Replacements are deferred until the concurrency budget has room.
   * @returns how many were closed or aborted (each one's slot is released when its socket has closed).
   */
  shed(n: number, openingToo = false): number {
    const out: WebSocket[] = [];
    while (out.length < n && this.idle.length > 0) {
      const entry = this.idle.shift()!;
      this.detach(entry);
      const ws = entry.ws;
      this.closing.add(ws);
      ws.once('close', () => {
        this.closing.delete(ws);
        this.replenish();
      });
      ws.terminate();
      out.push(ws);
    }
    let aborted = 0;
    if (openingToo) {
      for (const ac of this.openings) {
        if (out.length + aborted >= n) break;
        if (ac.signal.aborted) continue;
        ac.abort();
        aborted++;
      }
    }
    const total = out.length + aborted;
    if (this.init.counters.prewarmShed !== undefined) this.init.counters.prewarmShed += total;
    return total;
  }

  /** Terminate every socket, abort handshakes, clear timers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopPinging();
    for (const entry of this.idle.splice(0)) {
      this.detach(entry);
      entry.ws.terminate();
    }
    for (const ws of this.closing) ws.terminate();
    this.closing.clear();
    this.settleWaiters(new AbortError('provider is closed', { provider: this.init.provider }));
  }

  private replenish(): void {
    if (this.closed || this.gaveUp || this.retryTimer) return;
    while (this.idle.length + this.opening + this.closing.size < this.init.count) this.openOne();
  }

  private openOne(): void {
    this.opening++;
    const own = new AbortController();
    this.openings.add(own);
    this.init.open(AbortSignal.any([this.controller.signal, own.signal])).then(
      (ws) => {
        this.opening--;
        this.openings.delete(own);
        if (this.closed || own.signal.aborted) {
          ws.terminate();
          if (!this.closed) this.defer();
          return;
        }
        this.addIdle(ws);
      },
      (err: unknown) => {
        this.opening--;
        this.openings.delete(own);
        if (this.closed) return;
        if (own.signal.aborted || this.init.isDeferral?.(err)) {
          this.defer();
          return;
        }
        this.init.counters.prewarmFailures++;
        this.init.logger().debug('rtzr: pre-warm handshake failed', {
          provider: this.init.provider,
          code: (err as { code?: string }).code,
          message: (err as Error).message,
        });
        this.failed(err);
      },
    );
  }

  private addIdle(ws: WebSocket): void {
    const entry: IdleSocket = {
      ws,
      openedAt: performance.now(),
      timer: setTimeout(() => this.recycle(entry), this.init.idleMs),
      onClose: (code) => this.onIdleClose(entry, code),
    };
    ws.once('close', entry.onClose);
    this.idle.push(entry);
    this.pingTimer ??= setInterval(() => {
      for (const e of this.idle) if (e.ws.readyState === WebSocket.OPEN) e.ws.ping();
    }, this.init.pingIntervalMs);
    this.init.logger().debug('rtzr: pre-warmed socket ready', { provider: this.init.provider, idle: this.idle.length });
    if (this.idle.length >= this.init.count) this.settleWaiters();
  }

  /** Stop tracking an entry (it left `idle`, or is about to). */
  private detach(entry: IdleSocket): void {
    clearTimeout(entry.timer);
    entry.ws.off('close', entry.onClose);
    if (this.idle.length === 0) this.stopPinging();
  }

  private stopPinging(): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private remove(entry: IdleSocket): void {
    const i = this.idle.indexOf(entry);
    if (i >= 0) this.idle.splice(i, 1);
    this.detach(entry);
  }

  /** Reached its idle age: close it politely, replace it once it has closed. */
  private recycle(entry: IdleSocket): void {
    this.remove(entry);
    this.healthy();
    this.init.counters.prewarmRecycled++;
    this.init.logger().debug('rtzr: recycling an idle pre-warmed socket', {
      provider: this.init.provider,
      idleMs: this.init.idleMs,
    });
    const ws = entry.ws;
    this.closing.add(ws);
    ws.once('close', () => {
      this.closing.delete(ws);
      this.replenish();
    });
    ws.close(1000, 'idle');
  }

  private onIdleClose(entry: IdleSocket, code: number): void {
    this.remove(entry);
    this.init.counters.prewarmLost++;
    const aliveMs = Math.round(performance.now() - entry.openedAt);
    this.init.logger().debug('rtzr: a pre-warmed socket closed while idle; replacing it', {
      provider: this.init.provider,
      closeCode: code,
      aliveMs,
    });
    this.failed(
      new ConnectionError('CONNECTION_LOST', `pre-warmed RTZR socket closed while idle after ${aliveMs} ms (close code ${code})`, {
        provider: this.init.provider,
      }),
    );
  }

  /** No slot to spare now: try again later, without counting a failure or giving up. */
  private defer(): void {
    if (this.init.counters.prewarmDeferred !== undefined) this.init.counters.prewarmDeferred++;
    this.settleWaiters();
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.replenish();
    }, this.init.deferMs ?? 1000);
  }

  /** A socket proved healthy: reset the backoff. */
  private healthy(): void {
    this.round = 0;
    this.gaveUp = false;
  }

  /** A handshake failed or an idle socket died: report to waiters, retry with backoff. */
  private failed(err: unknown): void {
    this.settleWaiters(err);
    if (this.closed || this.retryTimer || this.gaveUp) return;
    const delay = RETRY_DELAYS_MS[this.round];
    if (delay === undefined) {
      this.gaveUp = true;
      this.init.logger().warn('rtzr: pre-warm keeps failing; pausing it until the next stream or warmup()', {
        provider: this.init.provider,
        code: (err as { code?: string }).code,
        message: (err as Error).message,
      });
      return;
    }
    this.round++;
    const asked = (err as { retryAfterMs?: unknown }).retryAfterMs;
    const wait = typeof asked === 'number' ? Math.max(delay, Math.min(asked, MAX_RETRY_AFTER_MS)) : delay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.replenish();
    }, wait);
  }

  private settleWaiters(err?: unknown): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }
}
