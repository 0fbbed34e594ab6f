/**
 * Building blocks of emulator fault injection: faults armed for the next N
 * matching events, consumed first in, first out.
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';

/** Validate a `times` argument (positive integer). */
export function checkTimes(times: number): number {
  if (!Number.isInteger(times) || times < 1) throw new ConfigurationError(`times must be a positive integer, got ${String(times)}`);
  return times;
}

/** A FIFO of faults, each armed for a number of uses. */
export class CountedQueue<T> {
  private readonly items: Array<{ value: T; remaining: number }> = [];

  /** Arm `value` for the next `times` events. */
  push(value: T, times = 1): void {
    this.items.push({ value, remaining: checkTimes(times) });
  }

  /** Consume one use of the oldest armed fault. */
  take(): T | undefined {
    const head = this.items[0];
    if (!head) return undefined;
    if (--head.remaining <= 0) this.items.shift();
    return head.value;
  }

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** "Act when a connection reaches N ms of audio" rules (drops, disconnects). */
export class AudioMarkRules {
  private readonly rules: Array<{ ms: number; remaining: number }> = [];

  /** Arm a rule for the next `times` connections that reach `ms` of audio. */
  add(ms: number, times = 1): void {
    if (!Number.isFinite(ms) || ms < 0) throw new ConfigurationError(`ms must be >= 0, got ${String(ms)}`);
    this.rules.push({ ms, remaining: checkTimes(times) });
  }

  /** Whether a connection at `audioMs` triggers a rule now (consumes one use). */
  take(audioMs: number): boolean {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (audioMs >= rule.ms) {
        if (--rule.remaining <= 0) this.rules.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  get pending(): boolean {
    return this.rules.length > 0;
  }

  clear(): void {
    this.rules.length = 0;
  }
}
