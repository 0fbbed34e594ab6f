/**
 * Reliability policy: what a stream does when its provider connection fails,
 * with the defaults documented in docs/fallback-and-reliability.md.
 * @module
 */
import { ConfigurationError, type SttError } from '../errors/index.js';
import { checkInteger, checkReplayWindowMs } from './options.js';

/** Reconnecting to the same provider after a dropped or refused connection. */
export interface ReconnectOptions {
  /** Attempts per outage before falling back (or failing). Default 3. */
  retries?: number;
  /** Base of the exponential backoff, ms. Default 100. */
  minDelayMs?: number;
  /** Cap of one backoff delay, ms. Default 2000. Delays use full jitter: uniform in [0, min(cap, base × 2^n)]. */
  maxDelayMs?: number;
  /** A connection that stayed healthy this long resets the budget, ms. Default 10000. */
  resetAfterMs?: number;
}

/** Switching to the next provider, and replaying the audio whose words are not final yet. */
export interface FallbackOptions {
  /** Audio kept after the last final for lossless recovery, ms. Default 30000. */
  replayWindowMs?: number;
  /** One connect attempt (token + handshake) may take this long before it counts as failed, ms. Default 10000. */
  attemptTimeoutMs?: number;
  /**
   * No result for this long while speech is being sent means the provider stalled, ms
   * (streaming providers with interim results only). Default 5000; 0 disables.
   */
  stallTimeoutMs?: number;
  /** After a provider failed, wait this long before probing it (token + handshake), ms. Default 30000. Doubles on each failed probe, up to 5 minutes. */
  recoveryCooldownMs?: number;
  /** On replay, this much audio goes out at once, ms. Default 5000. */
  replayBurstMs?: number;
  /** The rest of a replay goes out at this multiple of real time. Default 4. */
  replaySpeed?: number;
}

/** @internal */
export interface ResolvedReliability {
  fallback: boolean;
  reconnect: Required<ReconnectOptions> | false;
  replayWindowMs: number;
  attemptTimeoutMs: number;
  stallTimeoutMs: number;
  recoveryCooldownMs: number;
  replayBurstMs: number;
  replaySpeed: number;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigurationError(`${name} must be a finite number >= 0`);
  }
  return v;
}

/** @internal */
export function resolveReliability(
  fallback: FallbackOptions | false | undefined,
  reconnect: ReconnectOptions | false | undefined,
): ResolvedReliability {
  const f = fallback === false ? {} : (fallback ?? {});
  const speed = nonNegative('fallback.replaySpeed', f.replaySpeed, 4);
  if (speed < 1) throw new ConfigurationError('fallback.replaySpeed must be >= 1');
  return {
    fallback: fallback !== false,
    reconnect:
      reconnect === false
        ? false
        : {
            retries: checkInteger('reconnect.retries', reconnect?.retries ?? 3, 0, 100),
            minDelayMs: nonNegative('reconnect.minDelayMs', reconnect?.minDelayMs, 100),
            maxDelayMs: nonNegative('reconnect.maxDelayMs', reconnect?.maxDelayMs, 2000),
            resetAfterMs: nonNegative('reconnect.resetAfterMs', reconnect?.resetAfterMs, 10_000),
          },
    replayWindowMs: checkReplayWindowMs('fallback.replayWindowMs', f.replayWindowMs ?? 30_000),
    attemptTimeoutMs: nonNegative('fallback.attemptTimeoutMs', f.attemptTimeoutMs, 10_000),
    stallTimeoutMs: nonNegative('fallback.stallTimeoutMs', f.stallTimeoutMs, 5000),
    recoveryCooldownMs: nonNegative('fallback.recoveryCooldownMs', f.recoveryCooldownMs, 30_000),
    replayBurstMs: nonNegative('fallback.replayBurstMs', f.replayBurstMs, 5000),
    replaySpeed: speed,
  };
}

/**
 * What a failure calls for. A dropped or refused connection is worth reconnecting to the same
 * provider; anything that says the provider itself is unusable (authentication, rate limit,
 * timeout, stall, error or malformed frames, rejected configuration) goes straight to the next one.
 * @internal
 */
export function reconnectable(error: SttError): boolean {
  return error.code === 'CONNECTION_LOST' || (error.code === 'CONNECTION_FAILED' && error.retryable);
}

/** Full-jitter exponential backoff: uniform in [0, min(max, min × 2^(attempt−1))]. @internal */
export function backoffDelay(attempt: number, policy: Required<ReconnectOptions>, random = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}
