/**
 * Fault injection state of the Google streaming emulator.
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';
import { CountedQueue, checkTimes } from '../shared/counted-faults.js';
import type { GoogleGrpcStatusName, GoogleStreamingFaults } from './types.js';

const NAMES = new Set<GoogleGrpcStatusName>([
  'CANCELLED',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'ABORTED',
  'OUT_OF_RANGE',
  'INTERNAL',
  'UNAVAILABLE',
  'UNAUTHENTICATED',
]);

function checkStatus(status: GoogleGrpcStatusName): GoogleGrpcStatusName {
  if (!NAMES.has(status)) throw new ConfigurationError(`unsupported gRPC status ${String(status)}`);
  return status;
}

/** Fault state; implements the public {@link GoogleStreamingFaults}. */
export class StreamingFaultState implements GoogleStreamingFaults {
  private readonly starts = new CountedQueue<GoogleGrpcStatusName>();
  private readonly marks: { ms: number; status: GoogleGrpcStatusName; remaining: number }[] = [];

  failStreams(status: GoogleGrpcStatusName, times = 1): void {
    this.starts.push(checkStatus(status), times);
  }

  failAfterAudioMs(audioMs: number, status: GoogleGrpcStatusName = 'UNAVAILABLE', times = 1): void {
    if (!Number.isFinite(audioMs) || audioMs < 0) throw new ConfigurationError(`audioMs must be >= 0, got ${String(audioMs)}`);
    this.marks.push({ ms: audioMs, status: checkStatus(status), remaining: checkTimes(times) });
  }

  reset(): void {
    this.starts.clear();
    this.marks.length = 0;
  }

  /** The status a new stream fails with, if one is armed (consumes it). */
  takeStart(): GoogleGrpcStatusName | undefined {
    return this.starts.take();
  }

  /** The status a stream at `audioMs` of audio fails with now, if a rule is armed (consumes one use). */
  takeMark(audioMs: number): GoogleGrpcStatusName | undefined {
    const i = this.marks.findIndex((m) => audioMs >= m.ms);
    if (i < 0) return undefined;
    const m = this.marks[i]!;
    if (--m.remaining <= 0) this.marks.splice(i, 1);
    return m.status;
  }

  get hasMarks(): boolean {
    return this.marks.length > 0;
  }
}
