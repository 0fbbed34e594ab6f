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
 * A **handover** moves the stream to a new connection without an outage
 * (make-before-break, spec §9): the new connection is opened ahead while the
 * serving one carries on, and the stream switches at an utterance boundary
 * (the listener says when it is at one: every utterance the serving
 * connection reported has its final, and what it heard since is a pause).
 * The old connection is then closed
 * quietly; the stream replays into the new one the audio after the last
 * final. Three users: `reconfigure()` (new settings), rotation before a
 * provider's `maxStreamMs` (soft from `rotateAfterMs`, forced at
 * `maxStreamMs`), and switch-back to a recovered higher-priority provider.
 * Requests made while one is pending merge into it. Bounds: a connection
 * opened ahead waits at most `handoverWaitMs` for a boundary (then a
 * reconfigure is forced, a switch-back gives up and tries again at the next
 * boundary); a rotation waits until `maxStreamMs`. A failure of the connection
 * opened ahead never touches the serving one (transient: retried with the
 * reconnect backoff up to `reconnect.retries`; then, or when permanent, the
 * handover is given up). A failure of the serving connection during a
 * handover is recovered as any failure (the attempt under way is closed; a
 * reconfigure or switch-back starts again once the stream is served).
 *
 * The supervisor never sees the stream: it reports through a
 * {@link SupervisorListener}. Caller → stream → supervisor → provider session
 * → socket.
 * @module
 */
import pRetry from 'p-retry';
import type { AudioFormat } from '../audio/format.js';
import { AbortError, AllProvidersFailedError, StateError, TimeoutError, type SttError, toSttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider, ProviderResult, ProviderSession } from '../providers/provider.js';
import { sameSettings, sessionOptionsFor, type ConnectSettings } from './connect-settings.js';
import { deferred, PendingHandover, type Deferred } from './handover.js';
import { Link } from './link.js';
import { DEFAULT_RESET_AFTER_MS, recoveryFor, type ResolvedReliability } from './reliability.js';
import type { HandoverReason, ReconnectEvent } from './types.js';

/** A switch-back that found no boundary in `handoverWaitMs` is tried again at most this many times. */
const SWITCH_BACK_TRIES = 3;
/**
 * After a handover the old connection gets no more audio at once and is closed this much later, ms,
 * so what is in flight on it completes (RTZR's emulator, like a server that wants to know its last
 * final arrived, pings after it); whatever it sends meanwhile is ignored.
 */
const OLD_CONNECTION_LINGER_MS = 250;

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
  /**
   * Whether the serving connection is at an utterance boundary: every utterance it reported has its
   * final and what it heard since is a pause, so a handover now cuts none.
   */
  atBoundary(): boolean;
  /**
   * The stream moved from `from` (closed; whatever it still sends is ignored) to `to` (opened ahead,
   * nothing sent yet): place `to` on the stream and send it the audio not yet final. `forced`: no
   * boundary came in time; an utterance in progress continues on `to`.
   */
  handedOver(from: Link, to: Link, reason: HandoverReason, forced: boolean): void;
}

/** What a handover is asked for. @internal */
export interface HandoverRequest {
  reason: HandoverReason;
  /** Provider of the new connection (a switch-back); default: the one serving. */
  provider?: Provider;
  /** Settings of the new connection (a reconfigure); default: the current ones. */
  settings?: ConnectSettings;
  /** Switch as soon as the new connection is open, boundary or not (`maxStreamMs` reached). */
  force?: boolean;
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
  /** What the stream's first connection is opened with (reconnects use the current ones). */
  settings: ConnectSettings;
  includeRaw: boolean;
  logger: Logger;
  /** Input byte position where a new connection's audio starts (the oldest audio not yet final). */
  origin(): number;
  /** The stream stops using `provider` after `error` (takes it out of rotation for new streams). */
  onProviderFailed?(provider: Provider, error: SttError): void;
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
  /** Handovers done (reconfigure, rotation, switch-back). */
  handovers = 0;
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
  /** Settings of the serving connection, and of reconnects. */
  private settings: ConnectSettings;
  private pending: PendingHandover | undefined;
  /** The stream is ending or closed: no more handovers. */
  private handoversOff = false;
  private rotateTimer: NodeJS.Timeout | undefined;
  private forceTimer: NodeJS.Timeout | undefined;
  /** Old connections of handovers, closing. */
  private readonly retiring = new Set<Link>();

  constructor(
    private readonly o: SupervisorOptions,
    private readonly listener: SupervisorListener,
  ) {
    const first = o.providers[0];
    if (!first) throw new TypeError('Supervisor needs at least one provider');
    this.current = first;
    this.settings = o.settings;
  }

  /** Settings of the serving connection (what reconnects use). */
  get connectSettings(): ConnectSettings {
    return this.settings;
  }

  /** A handover is pending (requested, not done or given up yet). */
  get handoverPending(): boolean {
    return this.pending !== undefined;
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
    this.clearRotation();
    this.suspendHandover();
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

  /**
   * Stop: cancel attempts and timers, close the serving connection and one opened ahead. A pending
   * handover is given up with `reason` (default an `AbortError`). Idempotent.
   */
  close(reason?: SttError): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHandovers(reason ?? new AbortError('stream closed'));
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
    for (const l of this.retiring) l.abort();
    this.retiring.clear();
  }

  // ─────────────────────────── handovers ───────────────────────────

  /**
   * Move the stream to a new connection: opened ahead now (or once a connection serves again),
   * switched to at the next utterance boundary. Merges into a handover already pending.
   * Resolves when the new connection serves the stream; rejects with the error that made the
   * handover impossible (the new connection failed permanently or `reconnect.retries` times, a
   * `StateError` when the stream ends first, the stream's own error or an `AbortError` when it
   * closes first).
   */
  handover(req: HandoverRequest): Promise<void> {
    if (this.closed || this.handoversOff) {
      return Promise.reject(new StateError('the stream is ending or closed: it moves to no new connection', { provider: this.current.id }));
    }
    return this.request(req).wait();
  }

  /** The stream reached an utterance boundary (a final closed the last open utterance). */
  boundary(): void {
    const p = this.pending;
    if (!p || this.closed || !this.serving) return;
    if (p.link) this.switchOver(p, false);
    else if (p.atNextBoundary && !p.started) this.prepare(p);
  }

  /**
   * `provider` (of higher priority than the one serving) is available again: the stream may use it
   * again, and hands back to it at the next utterance boundary (a switch-back).
   */
  recovered(provider: Provider): void {
    if (this.closed || !this.o.providers.includes(provider)) return;
    this.left.delete(provider.id);
    if (this.handoversOff || !this.serving || provider === this.current) return;
    this.o.logger.info('stream: switching back at the next utterance boundary', { from: this.current.id, to: provider.id });
    this.request({ reason: 'switchback', provider });
  }

  /** The stream is ending: no more handovers; a pending one is given up with `error`. */
  stopHandovers(error: SttError): void {
    this.handoversOff = true;
    this.clearRotation();
    const p = this.pending;
    this.pending = undefined;
    p?.settle(error);
  }

  private request(req: HandoverRequest): PendingHandover {
    let p = this.pending;
    const target = req.provider ?? p?.target ?? this.current;
    const settings = req.settings ?? p?.settings ?? this.settings;
    if (!p) {
      p = new PendingHandover(target, settings);
      this.pending = p;
    } else if (p.target !== target || !sameSettings(p.settings, settings)) {
      p.reset(); // the connection opened ahead has the old target or settings
      p.target = target;
      p.settings = settings;
      p.failures = 0;
      p.expiries = 0;
      p.atNextBoundary = false;
    }
    p.reasons.add(req.reason);
    if (req.force) p.force = true;
    this.advance(p);
    return p;
  }

  /** Move a pending handover on: open ahead while a connection serves; a forced one switches when ready. */
  private advance(p: PendingHandover): void {
    if (this.pending !== p || this.closed || !this.serving) return;
    if (p.link) {
      if (p.force) this.switchOver(p, !this.listener.atBoundary());
      return;
    }
    if (!p.started && !p.retryTimer && !p.atNextBoundary) this.prepare(p);
  }

  /** Open the new connection ahead; switch at once when the stream is at a boundary, else wait for one. */
  private prepare(p: PendingHandover): void {
    p.started = true;
    p.atNextBoundary = false;
    const signal = p.controller.signal;
    const target = p.target;
    this.o.logger.debug('stream: opening a connection ahead for a handover', { provider: target.id, reasons: [...p.reasons] });
    this.connect(target, signal, p.settings).then(
      (link) => {
        if (this.pending !== p || signal.aborted || this.closed) {
          link.abort();
          return;
        }
        if (link.failure) {
          link.abort();
          this.prepareFailed(p, link.failure);
          return;
        }
        p.link = link;
        if (!this.serving) return; // the serving one failed meanwhile: suspendHandover() handles it
        const boundary = this.listener.atBoundary();
        if (boundary || p.force) this.switchOver(p, !boundary);
        else this.armWait(p);
      },
      (err: unknown) => {
        if (this.pending !== p || signal.aborted || this.closed) return;
        this.prepareFailed(p, toSttError(err, target.id));
      },
    );
  }

  /** Bound the wait for a boundary: a reconfigure is forced, a switch-back tries again later, a rotation waits for `maxStreamMs`. */
  private armWait(p: PendingHandover): void {
    if (!p.reasons.has('reconfigure') && !p.reasons.has('switchback')) return;
    p.waitTimer = setTimeout(() => {
      p.waitTimer = undefined;
      if (this.pending !== p || !p.link) return;
      if (p.reasons.has('reconfigure')) {
        this.o.logger.info('stream: no utterance boundary within handoverWaitMs; handing over now', { waitMs: this.o.reliability.handoverWaitMs });
        this.switchOver(p, !this.listener.atBoundary());
        return;
      }
      if (p.reasons.has('rotation')) return; // forced at maxStreamMs
      p.reset(); // a switch-back: close the connection opened ahead, try again at the next boundary
      p.expiries++;
      if (p.expiries >= SWITCH_BACK_TRIES) {
        this.o.logger.info('stream: no utterance boundary for a switch-back; staying on the current provider', {
          provider: this.current.id,
          tries: p.expiries,
        });
        this.dropHandover(p);
        return;
      }
      this.o.logger.debug('stream: no utterance boundary for a switch-back; trying again at the next one', { tries: p.expiries });
      p.atNextBoundary = true;
    }, this.o.reliability.handoverWaitMs);
  }

  /** The connection opened ahead failed: the serving one carries on; retry (transient) or give up. */
  private prepareFailed(p: PendingHandover, error: SttError): void {
    p.reset();
    this.o.logger.warn('stream: the connection opened ahead for a handover failed; the serving connection carries on', {
      provider: p.target.id,
      code: error.code,
      message: error.message,
    });
    if (p.target !== this.current) {
      // The switch-back target is not usable after all: it leaves rotation again until its next probe.
      this.left.add(p.target.id);
      this.o.onProviderFailed?.(p.target, error);
      p.reasons.delete('switchback');
      if (p.reasons.size === 0) {
        this.dropHandover(p, error);
        return;
      }
      p.target = this.current; // what else was asked for (a reconfigure, a rotation) goes on
      p.failures = 0;
      this.advance(p);
      return;
    }
    const policy = this.o.reliability.reconnect;
    if (!error.retryable || policy === false || p.failures >= policy.retries) {
      if (p.reasons.has('rotation')) {
        this.o.logger.warn(`stream: rotation given up; ${p.target.id} will end the connection at its limit and the stream reconnects`, {
          provider: p.target.id,
          code: error.code,
        });
      }
      this.dropHandover(p, error);
      return;
    }
    p.failures++;
    const backoff = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (p.failures - 1));
    p.retryTimer = setTimeout(
      () => {
        p.retryTimer = undefined;
        this.advance(p);
      },
      Math.max(backoff, error.retryAfterMs ?? 0),
    );
  }

  /** Switch: the connection opened ahead serves from now on; the old one is closed quietly. */
  private switchOver(p: PendingHandover, forced: boolean): void {
    const from = this.serving;
    const to = p.link;
    if (!from || !to || this.closed) return;
    const reason = p.reasonFor(this.current);
    p.link = undefined; // it serves now: settling the handover must not close it
    this.pending = undefined;
    this.serving = to;
    this.current = p.target;
    this.settings = p.settings;
    this.left.delete(to.provider.id);
    if (this.providersUsed.at(-1) !== to.provider.id) this.providersUsed.push(to.provider.id);
    this.handovers++;
    const o = this.outage;
    if (o && o.link === from) this.settle(o); // the old connection was still proving itself; the stream is served
    this.clearRotation();
    this.retire(from);
    this.o.logger.info('stream: handed over to a new connection', { from: from.provider.id, to: to.provider.id, reason, forced });
    this.listener.handedOver(from, to, reason, forced);
    if (this.serving === to) this.armRotation(to);
    p.settle();
  }

  /** Close the old connection of a handover quietly: no more audio now, closed a little later. */
  private retire(link: Link): void {
    this.retiring.add(link);
    link.closeQuietly(OLD_CONNECTION_LINGER_MS, () => this.retiring.delete(link));
  }

  /** The serving connection failed: close the attempt under way; what still matters starts again once the stream is served. */
  private suspendHandover(): void {
    const p = this.pending;
    if (!p) return;
    p.reset();
    p.force = false;
    p.failures = 0;
    p.atNextBoundary = false;
    p.reasons.delete('rotation'); // the recovery opens a new connection anyway
    if (p.reasons.size === 0) this.dropHandover(p);
  }

  /** A connection serves again after a failure: resume a suspended handover if it still matters. */
  private resumeHandover(): void {
    const p = this.pending;
    if (!p || !this.serving) return;
    if (p.target !== this.current && this.left.has(p.target.id)) p.reasons.delete('switchback');
    if (p.target === this.current || !p.reasons.has('switchback')) {
      p.reasons.delete('switchback'); // the recovery landed on the target itself
      p.target = this.current;
    }
    if (p.reasons.size === 0) this.dropHandover(p);
    else this.advance(p);
  }

  private dropHandover(p: PendingHandover, error?: SttError): void {
    if (this.pending === p) this.pending = undefined;
    p.settle(error);
  }

  /** Rotation timers of a connection that starts serving: soft at `rotateAfterMs`, forced at `maxStreamMs`. */
  private armRotation(link: Link): void {
    this.clearRotation();
    const max = link.provider.maxStreamMs;
    if (max === undefined || this.handoversOff || this.closed) return;
    const soft = Math.min(max, link.provider.rotateAfterMs ?? Math.max(max / 2, max - 60_000));
    const age = performance.now() - link.openedAt;
    this.rotateTimer = setTimeout(() => this.rotate(link, false), Math.max(0, soft - age));
    this.forceTimer = setTimeout(() => this.rotate(link, true), Math.max(0, max - age));
  }

  private rotate(link: Link, force: boolean): void {
    if (force) this.forceTimer = undefined;
    else this.rotateTimer = undefined;
    if (this.serving !== link || this.closed || this.handoversOff) return;
    if (force) this.o.logger.info('stream: the connection reached maxStreamMs; handing over now', { provider: link.provider.id });
    this.request({ reason: 'rotation', force });
  }

  private clearRotation(): void {
    clearTimeout(this.rotateTimer);
    clearTimeout(this.forceTimer);
    this.rotateTimer = this.forceTimer = undefined;
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
    const link = await this.connect(provider, o.controller.signal, this.settings);
    const proof = deferred();
    o.proof = proof;
    o.link = link;
    o.mature = false;
    this.serving = link;
    this.armRotation(link);
    const healthyAfterMs = this.o.reliability.reconnect ? this.o.reliability.reconnect.resetAfterMs : DEFAULT_RESET_AFTER_MS;
    const uptime = setTimeout(() => {
      if (o.link !== link) return;
      if (this.listener.owesResult()) o.mature = true; // healthy at its next result
      else this.settle(o);
    }, healthyAfterMs);
    try {
      this.listener.opened(link);
      if (this.serving === link) this.resumeHandover();
      await proof.promise;
    } finally {
      clearTimeout(uptime);
    }
  }

  /** One connect, bounded by `attemptTimeoutMs`; resolves with the open link. */
  private async connect(provider: Provider, signal: AbortSignal, settings: ConnectSettings): Promise<Link> {
    const link = new Link(provider, this.o.origin(), this.o.input, settings);
    const timeoutMs = this.o.reliability.attemptTimeoutMs;
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
        const options = sessionOptionsFor(provider, settings);
        try {
          pending = provider.connect({
            format: link.wire,
            language: settings.language,
            interimResults: settings.interimResults,
            ...(options ? { options } : {}),
            includeRaw: this.o.includeRaw,
            signal: link.controller.signal,
            logger: this.o.logger,
            onResult: (r) => {
              if (!this.closed && link === this.serving) this.listener.result(link, r);
            },
            onError: (e) => {
              const error = toSttError(e, provider.id);
              if (link === this.serving) this.fail(link, error);
              else if (link.session && this.pending?.link === link) this.prepareFailed(this.pending, error);
              else link.failure ??= error; // failed before it started serving: the attempt fails
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
      link.openedAt = performance.now();
      if (link.failure) {
        link.abort();
        throw link.failure;
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
