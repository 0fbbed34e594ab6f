/**
 * Fault injection state of the Faster-Whisper emulator.
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';
import { AudioMarkRules, CountedQueue, checkTimes } from '../shared/counted-faults.js';
import type { FasterWhisperFaults, FasterWhisperRejectStatus } from './types.js';

/** What to send instead of a reply. */
export type ReplyFault = 'malformed' | 'error';
/** What to do with an upgrade. */
export type UpgradeFault = { kind: 'refuse' } | { kind: 'reject'; status: FasterWhisperRejectStatus };

/** Fault state; implements the public {@link FasterWhisperFaults}. */
export class FaultState implements FasterWhisperFaults {
  private refusals = 0;
  private readonly rejections = new CountedQueue<FasterWhisperRejectStatus>();
  private readonly replyFaults = new CountedQueue<ReplyFault>();
  /** @internal */
  readonly drops = new AudioMarkRules();
  private stalled = false;

  constructor(private readonly onDropAll: () => void) {}

  refuseConnections(times = 1): void {
    this.refusals += checkTimes(times);
  }

  rejectConnections(status: FasterWhisperRejectStatus, times = 1): void {
    if (![401, 403, 500, 503].includes(status)) throw new ConfigurationError(`rejectConnections: unsupported status ${String(status)}`);
    this.rejections.push(status, times);
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
    this.replyFaults.push('malformed', times);
  }

  sendErrorReply(times = 1): void {
    this.replyFaults.push('error', times);
  }

  reset(): void {
    this.refusals = 0;
    this.rejections.clear();
    this.replyFaults.clear();
    this.drops.clear();
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
  takeReplyFault(): ReplyFault | undefined {
    return this.replyFaults.take();
  }

  /** @internal */
  get isStalled(): boolean {
    return this.stalled;
  }
}
