/**
 * One pending handover of a stream: where it moves (provider and connection
 * settings), why (requests merge: a reconfigure, a rotation and a switch-back
 * asked for at the same time make one handover), who waits for it
 * (`reconfigure()` promises), and the connection opened ahead for it. The
 * {@link Supervisor} drives it: opens the connection ahead, switches at an
 * utterance boundary, enforces the bounds (docs/fallback-and-reliability.md,
 * "Handover").
 * @module
 */
import type { SttError } from '../errors/index.js';
import type { Provider } from '../providers/provider.js';
import type { ConnectSettings } from './connect-settings.js';
import type { Link } from './link.js';
import type { HandoverReason } from './types.js';

/** A promise with its settle functions. @internal */
export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: SttError): void;
}

/** @internal */
export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: SttError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // settled by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** @internal */
export class PendingHandover {
  readonly reasons = new Set<HandoverReason>();
  /** Cancels the open-ahead attempt under way. */
  controller = new AbortController();
  /** The connection opened ahead, open and waiting for a boundary. */
  link: Link | undefined;
  /** An open-ahead attempt is under way, or its connection is open. */
  started = false;
  /** Switch as soon as the connection is open, boundary or not (the serving one reached `maxStreamMs`). */
  force = false;
  /** Open-ahead failures so far (transient ones are retried up to `reconnect.retries`). */
  failures = 0;
  /** Times a switch-back gave up waiting for a boundary. */
  expiries = 0;
  /** Open ahead again at the next boundary (a switch-back gave up waiting for one). */
  atNextBoundary = false;
  waitTimer: NodeJS.Timeout | undefined;
  retryTimer: NodeJS.Timeout | undefined;
  private readonly waiters: Deferred[] = [];

  constructor(
    /** Provider of the new connection. */
    public target: Provider,
    /** Settings of the new connection. */
    public settings: ConnectSettings,
  ) {}

  /** A promise settled when the handover is done (resolved) or given up (rejected). */
  wait(): Promise<void> {
    const d = deferred();
    this.waiters.push(d);
    return d.promise;
  }

  /** Stop the attempt under way and close its connection; the request itself stays. */
  reset(): void {
    this.controller.abort();
    this.controller = new AbortController();
    this.link?.abort();
    this.link = undefined;
    this.started = false;
    this.clearTimers();
  }

  clearTimers(): void {
    clearTimeout(this.waitTimer);
    clearTimeout(this.retryTimer);
    this.waitTimer = this.retryTimer = undefined;
  }

  /** Done (`error` undefined) or given up: close what is left and settle every waiter. */
  settle(error?: SttError): void {
    this.reset();
    for (const w of this.waiters.splice(0)) {
      if (error) w.reject(error);
      else w.resolve();
    }
  }

  /** What the `handover` event says: a change of provider is a switch-back, else a reconfigure, else a rotation. */
  reasonFor(current: Provider): HandoverReason {
    if (this.target !== current) return 'switchback';
    return this.reasons.has('reconfigure') ? 'reconfigure' : 'rotation';
  }
}
