/**
 * The guard between the library and a {@link Coordinator}: every call gets the
 * coordinator's `timeoutMs`; a call that fails or is late marks the
 * coordinator unavailable (one warning, one `coordinator` event), after which
 * the library carries on alone (local budget, local token cache, local health)
 * without sending it anything but a `ping()` every `pingIntervalMs`. The first
 * ping that answers rejoins (one info log, one event, rejoin listeners run).
 * @module
 * @internal
 */
import type { Logger } from '../logger.js';
import type { Coordinator } from './coordinator.js';

/** What a guarded call gave. */
export type LinkResult<T> = { ok: true; value: T } | { ok: false };

/** @internal */
export interface CoordinatorLinkOptions {
  logger: Logger;
  /** The coordinator became unavailable (`error` says why) or answered again. */
  onAvailability?: (available: boolean, error?: Error) => void;
  /** Interval of the rejoin pings while unavailable, ms. Default max(250, 2 × timeoutMs). */
  pingIntervalMs?: number;
}

class CoordinatorTimeout extends Error {
  constructor(name: string, what: string, ms: number) {
    super(`${name} coordinator: ${what} took longer than ${ms} ms`);
    this.name = 'CoordinatorTimeout';
  }
}

/** @internal */
export class CoordinatorLink {
  private up = true;
  private closed = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private readonly rejoinListeners = new Set<() => void>();
  private readonly pingIntervalMs: number;

  /** @param coordinator - `undefined`: no fleet, everything stays local (`shared` is false). */
  constructor(
    readonly coordinator: Coordinator | undefined,
    private readonly options: CoordinatorLinkOptions,
  ) {
    this.pingIntervalMs = options.pingIntervalMs ?? Math.max(250, 2 * (coordinator?.timeoutMs ?? 200));
  }

  /** A coordinator is configured (budget, token and health are meant to be shared). */
  get shared(): boolean {
    return this.coordinator !== undefined;
  }

  /** A coordinator is configured and answering now. */
  get available(): boolean {
    return this.coordinator !== undefined && this.up && !this.closed;
  }

  /** Run `listener` each time the coordinator answers again after an outage. Returns an unsubscribe function. */
  onRejoin(listener: () => void): () => void {
    this.rejoinListeners.add(listener);
    return () => this.rejoinListeners.delete(listener);
  }

  /**
   * Run one coordinator call within `timeoutMs`. `{ ok: false }` when there is no coordinator, it is
   * unavailable, the call failed or was late (then `late` gets the value if it arrives after all, so
   * a slot or lock taken too late can be given back). `cleanup`: a release that must still go out
   * after {@link close} (it never marks the coordinator unavailable). Never rejects.
   */
  async call<T>(
    what: string,
    op: (c: Coordinator) => Promise<T>,
    late?: (value: T) => void,
    cleanup = false,
  ): Promise<LinkResult<T>> {
    const c = this.coordinator;
    if (!c || !this.up || (this.closed && !cleanup)) return { ok: false };
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const work = op(c);
    try {
      const value = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              // one more turn of the event loop first: when the loop itself was busy, the answer may be
              // waiting in the socket already (timers run before I/O), and that is not Redis being slow
              setImmediate(() => {
                timedOut = true;
                reject(new CoordinatorTimeout(c.name, what, c.timeoutMs));
              }),
            c.timeoutMs,
          );
        }),
      ]);
      return { ok: true, value };
    } catch (err) {
      if (timedOut) {
        work.then(
          (v) => late?.(v),
          () => {},
        );
      }
      if (!cleanup) this.down(err instanceof Error ? err : new Error(String(err)), what);
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stop pinging; calls answer `{ ok: false }` from now on. */
  close(): void {
    this.closed = true;
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.rejoinListeners.clear();
  }

  private down(error: Error, what: string): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.options.logger.warn('coordinator unavailable: carrying on alone (local budget, token and health) until it answers again', {
      coordinator: this.coordinator!.name,
      operation: what,
      message: error.message,
    });
    this.options.onAvailability?.(false, error);
    this.schedulePing();
  }

  private schedulePing(): void {
    if (this.closed || this.pingTimer) return;
    this.pingTimer = setTimeout(() => {
      this.pingTimer = undefined;
      void this.ping();
    }, this.pingIntervalMs);
    this.pingTimer.unref();
  }

  private async ping(): Promise<void> {
    const c = this.coordinator!;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.ping(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new CoordinatorTimeout(c.name, 'ping', c.timeoutMs)), c.timeoutMs);
        }),
      ]);
    } catch {
      this.schedulePing();
      return;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) return;
    this.up = true;
    this.options.logger.info('coordinator answers again: rejoining the fleet', { coordinator: c.name });
    this.options.onAvailability?.(true);
    for (const l of [...this.rejoinListeners]) l();
  }
}
