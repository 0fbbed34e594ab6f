/**
 * Fault injection state of the WhisperLive emulator.
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';
import { AudioMarkRules, CountedQueue, checkTimes } from '../shared/counted-faults.js';
import type { WhisperLiveFaults, WhisperLiveRejectStatus } from './types.js';

/** What to do with an upgrade. */
export type UpgradeFault = { kind: 'refuse' } | { kind: 'reject'; status: WhisperLiveRejectStatus };
/** What to do instead of `SERVER_READY`. */
export type ReadyFault = 'error' | 'hang';
/** What to send instead of an update. */
export type UpdateFault = 'malformed' | 'error';

/** Fault state; implements the public {@link WhisperLiveFaults}. */
export class FaultState implements WhisperLiveFaults {
  private refusals = 0;
  private readonly rejections = new CountedQueue<WhisperLiveRejectStatus>();
  private readonly readyFaults = new CountedQueue<ReadyFault>();
  private readonly updateFaults = new CountedQueue<UpdateFault>();
  /** @internal */
  readonly drops = new AudioMarkRules();
  /** @internal */
  readonly disconnects = new AudioMarkRules();
  private stalled = false;

  constructor(private readonly onDropAll: () => void) {}

  refuseConnections(times = 1): void {
    this.refusals += checkTimes(times);
  }

  rejectConnections(status: WhisperLiveRejectStatus, times = 1): void {
    if (![401, 403, 500, 503].includes(status)) throw new ConfigurationError(`rejectConnections: unsupported status ${String(status)}`);
    this.rejections.push(status, times);
  }

  failModelLoad(times = 1): void {
    this.readyFaults.push('error', times);
  }

  neverReady(times = 1): void {
    this.readyFaults.push('hang', times);
  }

  sendError(times = 1): void {
    this.updateFaults.push('error', times);
  }

  disconnectAfterAudioMs(ms: number, times = 1): void {
    this.disconnects.add(ms, times);
  }

  dropAfterAudioMs(ms: number, times = 1): void {
    this.drops.add(ms, times);
  }

  dropAll(): void {
    this.onDropAll();
  }

  stall(on = true): void {
    this.stalled = on;
  }

  sendMalformed(times = 1): void {
    this.updateFaults.push('malformed', times);
  }

  reset(): void {
    this.refusals = 0;
    this.rejections.clear();
    this.readyFaults.clear();
    this.updateFaults.clear();
    this.drops.clear();
    this.disconnects.clear();
    this.stalled = false;
  }

  /** @internal */
  takeUpgradeFault(): UpgradeFault | undefined {
    if (this.refusals > 0) {
      this.refusals--;
      return { kind: 'refuse' };
    }
    const status = this.rejections.take();
    return status === undefined ? undefined : { kind: 'reject', status };
  }

  /** @internal */
  takeReadyFault(): ReadyFault | undefined {
    return this.readyFaults.take();
  }

  /** @internal */
  takeUpdateFault(): UpdateFault | undefined {
    return this.updateFaults.take();
  }

  /** @internal */
  get isStalled(): boolean {
    return this.stalled;
  }
}
