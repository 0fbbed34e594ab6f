/**
 * Connection supervision for one stream: which provider serves it, opening
 * connections (bounded by `attemptTimeoutMs`), and what happens when one
 * fails — the policy of spec §8 (`recoveryFor` in `reliability.ts`).
 *
 * An **outage** starts when the stream starts or its connection fails, and
 * ends when a new connection proves healthy: it stays up for `resetAfterMs`
 * and then has no result owed (nothing sent that still waits for an answer).
 * One outage is one [p-retry](https://github.com/sindresorhus/p-retry) run
 * whose attempt is "connect, serve, prove healthy", so the attempts of one
 * outage share its budget (`reconnect.retries` before switching provider) and
 * its growing backoff. p-retry supplies the exponential backoff with jitter
 * (`factor` 2, `minTimeout`/`maxTimeout` from `reconnect`, `randomize`), the
 * cancellation (`signal`) and the hook where each failure is classified
 * (`onFailedAttempt`). A switch to the next provider does not consume a retry
 * (`shouldConsumeRetry`), so it goes out at once. A server's `Retry-After`
 * (`SttError.retryAfterMs`) is a floor p-retry cannot express: the next
 * attempt waits out whatever p-retry's backoff left of it.
 *
 * The **give-up clock** (`giveUpAfterMs`) runs from the start of the outage
 * and restarts whenever the stream makes progress (a connection delivers a
 * final). The outage gives up (the stream fails) when the clock runs out
 * with no connection open, at the first failure after it ran out, or when the
 * policy says so (a permanent failure and no provider left, or reconnecting
 * disabled). A connection that is open and replaying when the clock runs out
 * is not cut.
 *
 * The supervisor never sees the stream: it reports through a
 * {@link SupervisorListener}. Caller → stream → supervisor → provider session
 * → socket.
 * @module
 */
import pRetry from 'p-retry';
import type { AudioFormat } from '../audio/format.js';
import { AbortError, AllProvidersFailedError, TimeoutError, type SttError, toSttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider, ProviderResult, ProviderSession } from '../providers/provider.js';
import { Link } from './link.js';
import { DEFAULT_RESET_AFTER_MS, recoveryFor, type ResolvedReliability } from './reliability.js';
import type { ReconnectEvent } from './types.js';

/** How the supervisor talks back to its stream. @internal */
export interface SupervisorListener {
  /** A connection is open and serves the stream from now on: send it the audio not yet final. */
  opened(link: Link): void;
  /** A result of the serving connection. */
  result(link: Link, result: ProviderResult): void;
  /** The serving connection failed and was closed; recovery is under way. */
  lost(link: Link, reason: SttError): void;
  /** A new attempt on the same provider starts now (after its backoff). */
  reconnecting(event: ReconnectEvent): void;
  /** The stream moves to the next provider. */
  fallingBack(from: string, to: string, reason: SttError): void;
  /** Speech went out on the serving connection and waits for a result. */
  owesResult(): boolean;
  /** Nothing more can be tried: the stream fails with `error`. */
  failed(error: SttError): void;
}

/** @internal */
export interface SupervisorOptions {
  /** Providers in the order to try them. */
  providers: readonly Provider[];
  reliability: ResolvedReliability;
  /** No connection for this long since an outage began: give up, ms. */
  giveUpAfterMs: number;
  /** The stream's input format (links convert from it). */
  input: Required<AudioFormat>;
  language: string;
  interimResults: boolean;
  includeRaw: boolean;
  logger: Logger;
  /** Input byte position where a new connection's audio starts (the oldest audio not yet final). */
  origin(): number;
  /** The stream stops using `provider` after `error` (takes it out of rotation for new streams). */
  onProviderFailed?(provider: Provider, error: SttError): void;
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(error: SttError): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: SttError) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // settled by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

/** One outage: from a failure (or the stream's start) to a healthy connection. */
interface Outage {
  readonly controller: AbortController;
  /** Start of the give-up clock (the outage's start, or its last progress). */
  clockFrom: number;
  deadline: NodeJS.Timeout | undefined;
  /** Provider of the next attempt. */
  target: Provider;
  /** The last failure; undefined before the stream's first connection. */
  reason: SttError | undefined;
  failedAt: number;
  /** The next attempt is the first on a new provider (a fallback), not a reconnect. */
  switching: boolean;
  /** Same-provider attempts on `target` in this outage. */
  tries: number;
  /** The connection of the current attempt once it is open, until it proves healthy. */
  link: Link | undefined;
  proof: Deferred | undefined;
  /** That connection has been up for `resetAfterMs`: it is healthy as soon as no result is owed. */
  mature: boolean;
}

/** @internal */
export class Supervisor {
  /** Same-provider attempts of every outage. */
  reconnects = 0;
  /** Provider switches. */
  fallbacks = 0;
  /** Every provider that served (or was tried for) the stream, in order. */
  readonly providersUsed: string[] = [];
  private current: Provider;
  private serving: Link | undefined;
  private outage: Outage | undefined;
  /** Providers this stream moved away from (never used again by it). */
  private readonly left = new Set<string>();
  /** Last error of each provider tried, in the order they were tried. */
  private readonly lastErrors = new Map<string, SttError>();
  private closed = false;

  constructor(
    private readonly o: SupervisorOptions,
    private readonly listener: SupervisorListener,
  ) {
    const first = o.providers[0];
    if (!first) throw new TypeError('Supervisor needs at least one provider');
    this.current = first;
  }

  /** The open connection serving the stream; undefined while (re)connecting. */
  get link(): Link | undefined {
    return this.serving;
  }

  /** The provider serving the stream now (or being connected to). */
  get provider(): Provider {
    return this.current;
  }

  /** Connect the first provider. */
  start(): void {
    this.begin(undefined);
  }

  /**
   * The serving connection delivered a result (nothing is owed right now); `final`: a final that
   * moved the stream forward, which restarts the give-up clock.
   */
  progress(link: Link, final: boolean): void {
    const o = this.outage;
    if (!o || o.link !== link) return;
    if (o.mature) this.settle(o);
    else if (final) this.restartClock(o);
  }

  /**
   * The connection failed (a provider error, or a failure the stream detected: a stall, finals
   * missing at the end). Closes it and recovers: same provider, next provider, or give up.
   * Ignored for a connection that no longer serves.
   */
  fail(link: Link, error: SttError): void {
    if (this.closed || link.retired || link !== this.serving) return;
    this.o.logger.warn('stream: provider connection failed', { provider: link.provider.id, code: error.code, message: error.message });
    this.serving = undefined;
    link.abort();
    this.listener.lost(link, error);
    if (this.closed) return;
    const o = this.outage;
    if (o && o.link === link) {
      o.link = undefined;
      o.proof?.reject(error); // the attempt fails: p-retry carries the outage on
    } else {
      this.begin(error);
    }
  }

  /** Stop: cancel attempts and timers, close the serving connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const o = this.outage;
    this.outage = undefined;
    if (o) {
      clearTimeout(o.deadline);
      o.deadline = undefined;
      o.controller.abort(new AbortError('stream closed'));
      o.proof?.reject(new AbortError('stream closed'));
    }
    this.serving?.abort();
    this.serving = undefined;
  }

  // ─────────────────────────── outages ───────────────────────────

  private begin(reason: SttError | undefined): void {
    const now = performance.now();
    const o: Outage = {
      controller: new AbortController(),
      clockFrom: now,
      deadline: undefined,
      target: this.current,
      reason: undefined,
      failedAt: now,
      switching: false,
      tries: 0,
      link: undefined,
      proof: undefined,
      mature: false,
    };
    this.outage = o;
    this.restartClock(o);
    if (reason) {
      try {
        this.decide(o, reason);
      } catch (err) {
        this.giveUp(o, err);
        return;
      }
    }
    const policy = this.o.reliability.reconnect || { minDelayMs: 100, maxDelayMs: 2000 };
    pRetry(() => this.attempt(o), {
      retries: Number.POSITIVE_INFINITY, // bounded by the policy and the give-up clock
      factor: 2,
      minTimeout: policy.minDelayMs,
      maxTimeout: policy.maxDelayMs,
      randomize: true,
      signal: o.controller.signal,
      onFailedAttempt: ({ error }) => this.decide(o, toSttError(error, o.target.id)),
      shouldConsumeRetry: () => !o.switching,
    }).then(
      () => this.settle(o),
      (err: unknown) => this.giveUp(o, err),
    );
  }

  /**
   * Classify a failure and choose the next attempt; throws to give up. Runs in p-retry's
   * `onFailedAttempt`, before its backoff.
   */
  private decide(o: Outage, error: SttError): void {
    if (o.controller.signal.aborted) throw o.controller.signal.reason;
    const provider = o.target;
    this.lastErrors.set(provider.id, error);
    o.reason = error;
    o.failedAt = performance.now();
    if (o.failedAt - o.clockFrom >= this.o.giveUpAfterMs) throw error; // the give-up clock ran out
    const policy = this.o.reliability.reconnect;
    const next = this.nextProvider(provider);
    const action = recoveryFor(error, {
      reconnect: policy !== false,
      hasNext: next !== undefined,
      budgetSpent: policy === false || o.tries >= policy.retries,
    });
    if (action === 'retry') {
      o.switching = false;
      return;
    }
    this.left.add(provider.id);
    this.o.onProviderFailed?.(provider, error);
    if (action === 'give-up' || !next) throw error;
    o.target = next;
    o.tries = 0;
    o.switching = true;
    this.current = next;
    this.fallbacks++;
    this.o.logger.warn('stream: falling back', { from: provider.id, to: next.id, code: error.code });
    this.listener.fallingBack(provider.id, next.id, error);
  }

  /** One attempt: (wait out Retry-After,) connect, serve, and wait until the connection proves healthy. */
  private async attempt(o: Outage): Promise<void> {
    const provider = o.target;
    const reason = o.reason;
    if (reason && !o.switching) {
      const floor = o.failedAt + (reason.retryAfterMs ?? 0) - performance.now();
      if (floor > 0) await sleep(floor, o.controller.signal);
      o.tries++;
      this.reconnects++;
      const delayMs = Math.round(performance.now() - o.failedAt);
      this.o.logger.info('stream: reconnecting', { provider: provider.id, attempt: o.tries, delayMs, code: reason.code });
      this.listener.reconnecting({ provider: provider.id, attempt: o.tries, delayMs, reason });
    }
    o.switching = false;
    if (this.providersUsed.at(-1) !== provider.id) this.providersUsed.push(provider.id);
    const link = await this.connect(provider, o.controller.signal);
    const proof = deferred();
    o.proof = proof;
    o.link = link;
    o.mature = false;
    this.serving = link;
    const healthyAfterMs = this.o.reliability.reconnect ? this.o.reliability.reconnect.resetAfterMs : DEFAULT_RESET_AFTER_MS;
    const uptime = setTimeout(() => {
      if (o.link !== link) return;
      if (this.listener.owesResult()) o.mature = true; // healthy at its next result
      else this.settle(o);
    }, healthyAfterMs);
    try {
      this.listener.opened(link);
      await proof.promise;
    } finally {
      clearTimeout(uptime);
    }
  }

  /** One connect, bounded by `attemptTimeoutMs`; resolves with the open link. */
  private async connect(provider: Provider, signal: AbortSignal): Promise<Link> {
    const link = new Link(provider, this.o.origin(), this.o.input);
    const timeoutMs = this.o.reliability.attemptTimeoutMs;
    let early: SttError | undefined;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const session = await new Promise<ProviderSession>((resolve, reject) => {
        let settled = false;
        const settle = (error: SttError | undefined, session?: ProviderSession): void => {
          if (settled) {
            session?.abort();
            return;
          }
          settled = true;
          if (error) {
            link.abort();
            reject(error);
          } else resolve(session!);
        };
        onAbort = () => settle(toSttError(signal.reason, provider.id));
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        if (timeoutMs > 0) {
          timer = setTimeout(
            () => settle(new TimeoutError(`connecting to ${provider.id} took longer than ${timeoutMs} ms`, { provider: provider.id })),
            timeoutMs,
          );
        }
        let pending: Promise<ProviderSession>;
        try {
          pending = provider.connect({
            format: link.wire,
            language: this.o.language,
            interimResults: this.o.interimResults,
            includeRaw: this.o.includeRaw,
            signal: link.controller.signal,
            logger: this.o.logger,
            onResult: (r) => {
              if (!this.closed && link === this.serving) this.listener.result(link, r);
            },
            onError: (e) => {
              const error = toSttError(e, provider.id);
              if (link === this.serving) this.fail(link, error);
              else early ??= error; // failed before it started serving: the attempt fails
            },
          });
        } catch (err) {
          settle(toSttError(err, provider.id));
          return;
        }
        pending.then(
          (s) => settle(undefined, s),
          (err: unknown) => settle(toSttError(err, provider.id)),
        );
      });
      link.session = session;
      link.costs = session.costs;
      if (early) {
        link.abort();
        throw early;
      }
      return link;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  /** The outage is over: the connection proved healthy. */
  private settle(o: Outage): void {
    clearTimeout(o.deadline);
    o.deadline = undefined;
    if (this.outage === o) this.outage = undefined;
    o.link = undefined;
    o.proof?.resolve();
  }

  /** (Re)start the give-up clock. */
  private restartClock(o: Outage): void {
    clearTimeout(o.deadline);
    o.clockFrom = performance.now();
    o.deadline = setTimeout(() => this.expire(o), this.o.giveUpAfterMs);
  }

  /** The give-up clock ran out: stop now unless a connection is open and still proving itself. */
  private expire(o: Outage): void {
    if (this.outage !== o || o.link) return;
    const error =
      o.reason ??
      new TimeoutError(`no connection to ${o.target.id} could be opened within ${this.o.giveUpAfterMs} ms (giveUpAfterMs)`, {
        provider: o.target.id,
      });
    this.lastErrors.set(o.target.id, error);
    o.controller.abort(error);
  }

  private giveUp(o: Outage, err: unknown): void {
    clearTimeout(o.deadline);
    o.deadline = undefined;
    if (this.closed || this.outage !== o) return;
    this.outage = undefined;
    const error = toSttError(err, o.target.id);
    if (!this.left.has(o.target.id)) {
      this.left.add(o.target.id);
      this.o.onProviderFailed?.(o.target, error);
    }
    if (!this.lastErrors.has(o.target.id)) this.lastErrors.set(o.target.id, error);
    const several = this.o.providers.length > 1 && this.o.reliability.fallback;
    this.listener.failed(several ? new AllProvidersFailedError([...this.lastErrors.values()]) : error);
  }

  private nextProvider(after: Provider): Provider | undefined {
    if (!this.o.reliability.fallback) return undefined;
    return this.o.providers.find((p) => p !== after && !this.left.has(p.id));
  }
}

/** Abortable sleep; rejects with the signal's reason. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
