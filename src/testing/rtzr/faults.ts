/**
 * Fault injection state of the RTZR emulator: the public {@link RtzrFaults}
 * methods plus the internal `take*` queries the server and sessions consume.
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';
import { AudioMarkRules } from '../shared/counted-faults.js';
import type { RtzrAuthFailureStatus, RtzrFaults, RtzrRejectOptions, RtzrRejectStatus } from './types.js';

/** Hooks for the faults that act immediately. */
export interface FaultHooks {
  expireTokens(): void;
  dropAll(): void;
}

/** What to do with an authenticate request. */
export type AuthFault = { kind: 'hang' } | { kind: 'fail'; status: RtzrAuthFailureStatus };
/** What to do with an upgrade request. */
export type UpgradeFault = { kind: 'refuse' } | { kind: 'reject'; status: RtzrRejectStatus; retryAfterSec?: number };
/** What to send instead of a result. */
export type ResultFault = 'malformed' | 'error';

interface Counted<T> {
  value: T;
  remaining: number;
}

function checkTimes(times: number): number {
  if (!Number.isInteger(times) || times < 1) throw new ConfigurationError(`times must be a positive integer, got ${String(times)}`);
  return times;
}

/** Take one use from the first entry of a FIFO of counted faults. */
function takeFirst<T>(queue: Array<Counted<T>>): T | undefined {
  const head = queue[0];
  if (!head) return undefined;
  if (--head.remaining <= 0) queue.shift();
  return head.value;
}

/** Fault state; implements the public {@link RtzrFaults}. */
export class FaultState implements RtzrFaults {
  private hangs = 0;
  private readonly authFailures: Array<Counted<RtzrAuthFailureStatus>> = [];
  private refusals = 0;
  private readonly rejections: Array<Counted<{ status: RtzrRejectStatus; retryAfterSec?: number }>> = [];
  private readonly drops: Array<Counted<number>> = [];
  private readonly silences = new AudioMarkRules();
  private silencesAfterEos = 0;
  private readonly resultFaults: Array<Counted<ResultFault>> = [];
  private stalled = false;
  private holdAfterEos = false;

  constructor(private readonly hooks: FaultHooks) {}

  failAuth(status: RtzrAuthFailureStatus, times = 1): void {
    if (status !== 400 && status !== 401 && status !== 500) throw new ConfigurationError(`failAuth: unsupported status ${String(status)}`);
    this.authFailures.push({ value: status, remaining: checkTimes(times) });
  }

  hangAuth(times = 1): void {
    this.hangs += checkTimes(times);
  }

  expireTokens(): void {
    this.hooks.expireTokens();
  }

  rejectConnections(status: RtzrRejectStatus, times = 1, options: RtzrRejectOptions = {}): void {
    if (![401, 429, 500, 503].includes(status)) throw new ConfigurationError(`rejectConnections: unsupported status ${String(status)}`);
    const { retryAfterSec } = options;
    if (retryAfterSec !== undefined && !(Number.isInteger(retryAfterSec) && retryAfterSec >= 0)) {
      throw new ConfigurationError(`rejectConnections: retryAfterSec must be an integer >= 0, got ${String(retryAfterSec)}`);
    }
    this.rejections.push({ value: retryAfterSec === undefined ? { status } : { status, retryAfterSec }, remaining: checkTimes(times) });
  }

  refuseConnections(times = 1): void {
    this.refusals += checkTimes(times);
  }

  dropAfterAudioMs(ms: number, times = 1): void {
    if (!Number.isFinite(ms) || ms < 0) throw new ConfigurationError(`dropAfterAudioMs: ms must be >= 0, got ${String(ms)}`);
    this.drops.push({ value: ms, remaining: checkTimes(times) });
  }

  dropAll(): void {
    this.hooks.dropAll();
  }

  stall(on = true): void {
    this.stalled = on;
  }

  stallAfterAudioMs(ms: number, times = 1): void {
    this.silences.add(ms, times);
  }

  stallAfterEos(times = 1): void {
    this.silencesAfterEos += checkTimes(times);
  }

  sendMalformed(times = 1): void {
    this.resultFaults.push({ value: 'malformed', remaining: checkTimes(times) });
  }

  sendErrorFrame(times = 1): void {
    this.resultFaults.push({ value: 'error', remaining: checkTimes(times) });
  }

  noCloseAfterEos(on = true): void {
    this.holdAfterEos = on;
  }

  reset(): void {
    this.hangs = 0;
    this.authFailures.length = 0;
    this.refusals = 0;
    this.rejections.length = 0;
    this.drops.length = 0;
    this.silences.clear();
    this.silencesAfterEos = 0;
    this.resultFaults.length = 0;
    this.stalled = false;
    this.holdAfterEos = false;
  }

  /** @internal Consume the fault for the next authenticate request, if any. */
  takeAuthFault(): AuthFault | undefined {
    if (this.hangs > 0) {
      this.hangs--;
      return { kind: 'hang' };
    }
    const status = takeFirst(this.authFailures);
    return status === undefined ? undefined : { kind: 'fail', status };
  }

  /** @internal Consume the fault for the next upgrade request, if any. */
  takeUpgradeFault(): UpgradeFault | undefined {
    if (this.refusals > 0) {
      this.refusals--;
      return { kind: 'refuse' };
    }
    const rejection = takeFirst(this.rejections);
    return rejection === undefined ? undefined : { kind: 'reject', ...rejection };
  }

  /** @internal Whether a connection that has received `audioMs` of audio must be dropped now (consumes one use). */
  takeDrop(audioMs: number): boolean {
    for (let i = 0; i < this.drops.length; i++) {
      const rule = this.drops[i]!;
      if (audioMs >= rule.value) {
        if (--rule.remaining <= 0) this.drops.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** @internal Whether any drop rule is pending (cheap check for the audio hot path). */
  get hasDrops(): boolean {
    return this.drops.length > 0;
  }

  /** @internal Whether a connection that has received `audioMs` of audio must go silent now (consumes one use). */
  takeSilence(audioMs: number): boolean {
    return this.silences.take(audioMs);
  }

  /** @internal Whether any silence rule is pending (cheap check for the audio hot path). */
  get hasSilences(): boolean {
    return this.silences.pending;
  }

  /** @internal Whether the connection that just received `EOS` must go silent (consumes one use). */
  takeSilenceAfterEos(): boolean {
    if (this.silencesAfterEos <= 0) return false;
    this.silencesAfterEos--;
    return true;
  }

  /** @internal Consume the fault for the next result, if any. */
  takeResultFault(): ResultFault | undefined {
    return takeFirst(this.resultFaults);
  }

  /** @internal Whether results are being withheld. */
  get isStalled(): boolean {
    return this.stalled;
  }

  /** @internal Whether sockets stay open after EOS. */
  get isHoldingAfterEos(): boolean {
    return this.holdAfterEos;
  }
}
