/**
 * Reliability policy: what a stream does when its provider connection fails,
 * with the defaults documented in docs/fallback-and-reliability.md (contract:
 * spec §8). Pure functions and option resolution; the supervisor
 * (`supervisor.ts`) carries the policy out.
 * @module
 */
import { ConfigurationError, type SttError } from '../errors/index.js';
import { checkDurationMs, checkInteger, checkReplayWindowMs } from './options.js';

/** Reconnecting to the same provider after a transient failure. */
export interface ReconnectOptions {
  /**
   * Attempts on the same provider per outage before switching to the next provider, when another
   * one is available. With no other provider left (a single provider, `fallback: false`, or every
   * other one already failed) the stream keeps retrying the same provider until
   * `fallback.giveUpAfterMs`. Default 3.
   */
  retries?: number;
  /**
   * Base of the exponential backoff between attempts, ms. Default 100. The delay before retry n
   * (1-based) is `min(maxDelayMs, minDelayMs × 2^(n−1) × r)` with r uniform in [1, 2)
   * (p-retry's `randomize`), and never less than the server's `Retry-After`.
   */
  minDelayMs?: number;
  /** Cap of one backoff delay, ms. Default 2000. */
  maxDelayMs?: number;
  /**
   * A connection that stays up this long with no result owed (nothing sent that still waits for an
   * answer) counts as healthy, like one that delivered a result: the next failure starts a new
   * outage (fresh budget, fresh give-up clock), ms. Default 10000.
   */
  resetAfterMs?: number;
}

/** Switching to the next provider, and replaying the audio whose words are not final yet. */
export interface FallbackOptions {
  /** Audio kept after the last final for lossless recovery, ms. Default 30000. */
  replayWindowMs?: number;
  /** One connect attempt (token + handshake) may take this long before it counts as failed, ms. Default 10000; 0 disables. */
  attemptTimeoutMs?: number;
  /**
   * No result for this long while speech is being sent means the provider stalled, ms (streaming
   * providers with interim results only). Counted on wall time and, for providers without a
   * `capabilities.stallTimeoutMs` of their own, also on the audio sent (up to `replaySpeed` × real
   * time), so a recording written faster than real time is caught while it is being sent.
   * Default: the provider's `capabilities.stallTimeoutMs`, else 5000; 0 disables.
   */
  stallTimeoutMs?: number;
  /**
   * Give up (fail the stream) when no provider could be connected for this long since the outage
   * began, ms. Default: the stream's `replayWindowMs` (past it, audio is lost anyway).
   */
  giveUpAfterMs?: number;
  /** After a provider failed, wait this long before probing it (token + handshake), ms. Default 30000. Doubles on each failed probe, up to 5 minutes. */
  recoveryCooldownMs?: number;
  /** On replay, this much audio goes out at once, ms. Default 5000. */
  replayBurstMs?: number;
  /** The rest of a replay goes out at this multiple of real time. Default 4. */
  replaySpeed?: number;
  /**
   * After a fallback, move a stream back to a higher-priority provider once the recognizer sees it
   * available again (its recovery probe succeeded, `availability` `{ available: true }`): the stream
   * opens a connection to it ahead and hands over at the next utterance boundary (a `handover`
   * event, reason `'switchback'`). `false`: a stream stays where it fell back to; only new streams
   * use the recovered provider. Default true. See docs/fallback-and-reliability.md ("Handover").
   */
  switchBack?: boolean;
  /**
   * How long a handover's new connection, once open, waits for an utterance boundary, ms. Past it a
   * `reconfigure()` is forced (the utterance in progress is re-recognised on the new connection,
   * replayed from the last final), and a switch-back is given up (its connection closed) and tried
   * again at the next boundary, at most 3 times per recovery. A rotation waits until the provider's
   * `maxStreamMs` instead. Default 15000 (longer than RTZR's default `maxUtterDuration`, 12 s, so a
   * caller talking without a pause still reaches a boundary). From 100 to 600000.
   */
  handoverWaitMs?: number;
}

/** @internal */
export interface ResolvedReconnect {
  retries: number;
  minDelayMs: number;
  maxDelayMs: number;
  resetAfterMs: number;
}

/** @internal */
export interface ResolvedReliability {
  fallback: boolean;
  reconnect: ResolvedReconnect | false;
  replayWindowMs: number;
  attemptTimeoutMs: number;
  /** Set by the user; undefined: per provider (`capabilities.stallTimeoutMs`, else 5000). */
  stallTimeoutMs: number | undefined;
  /** Set by the user; undefined: the stream's replay window. */
  giveUpAfterMs: number | undefined;
  recoveryCooldownMs: number;
  replayBurstMs: number;
  replaySpeed: number;
  switchBack: boolean;
  handoverWaitMs: number;
}

/** Stall timeout of a provider that declares none, ms. @internal */
export const DEFAULT_STALL_TIMEOUT_MS = 5000;
/** Healthy uptime when reconnecting is disabled (only used to end an outage), ms. @internal */
export const DEFAULT_RESET_AFTER_MS = 10_000;

function nonNegative(name: string, v: number | undefined, dflt: number): number;
function nonNegative(name: string, v: number | undefined, dflt: undefined): number | undefined;
function nonNegative(name: string, v: number | undefined, dflt: number | undefined): number | undefined {
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
  if (f.switchBack !== undefined && typeof f.switchBack !== 'boolean') throw new ConfigurationError('fallback.switchBack must be a boolean');
  return {
    fallback: fallback !== false,
    reconnect:
      reconnect === false
        ? false
        : {
            retries: checkInteger('reconnect.retries', reconnect?.retries ?? 3, 0, 100),
            minDelayMs: nonNegative('reconnect.minDelayMs', reconnect?.minDelayMs, 100),
            maxDelayMs: nonNegative('reconnect.maxDelayMs', reconnect?.maxDelayMs, 2000),
            resetAfterMs: nonNegative('reconnect.resetAfterMs', reconnect?.resetAfterMs, DEFAULT_RESET_AFTER_MS),
          },
    replayWindowMs: checkReplayWindowMs('fallback.replayWindowMs', f.replayWindowMs ?? 30_000),
    attemptTimeoutMs: nonNegative('fallback.attemptTimeoutMs', f.attemptTimeoutMs, 10_000),
    stallTimeoutMs: nonNegative('fallback.stallTimeoutMs', f.stallTimeoutMs, undefined),
    giveUpAfterMs: nonNegative('fallback.giveUpAfterMs', f.giveUpAfterMs, undefined),
    recoveryCooldownMs: nonNegative('fallback.recoveryCooldownMs', f.recoveryCooldownMs, 30_000),
    replayBurstMs: nonNegative('fallback.replayBurstMs', f.replayBurstMs, 5000),
    replaySpeed: speed,
    switchBack: fallback !== false && f.switchBack !== false,
    handoverWaitMs: checkDurationMs('fallback.handoverWaitMs', f.handoverWaitMs ?? 15_000, 100, 600_000),
  };
}

/** What to do after a failure. @internal */
export type Recovery = 'retry' | 'next' | 'give-up';

/** What {@link recoveryFor} needs to know besides the error. @internal */
export interface RecoveryContext {
  /** Reconnecting to the same provider is allowed (`reconnect` is not `false`). */
  reconnect: boolean;
  /** Another provider is available to switch to (fallback enabled, one not yet failed in this stream). */
  hasNext: boolean;
  /** The same-provider attempts of this outage reached `reconnect.retries`. */
  budgetSpent: boolean;
}

/**
 * The policy of spec §8. A failure is transient or permanent by `error.retryable` alone:
 * - permanent → the next provider, or give up when none is left;
 * - transient, another provider available → the next provider at once, except for a failed or
 *   dropped connection (`CONNECTION_FAILED`/`CONNECTION_LOST`: the connection failed, not the
 *   provider), which is retried on the same provider while the outage's budget lasts;
 * - transient, no other provider → retry the same provider with backoff (until the give-up
 *   clock runs out), unless reconnecting is disabled.
 * @internal
 */
export function recoveryFor(error: SttError, ctx: RecoveryContext): Recovery {
  if (!error.retryable) return ctx.hasNext ? 'next' : 'give-up';
  if (ctx.hasNext && (!ctx.reconnect || ctx.budgetSpent || !connectionFault(error))) return 'next';
  return ctx.reconnect ? 'retry' : 'give-up';
}

function connectionFault(error: SttError): boolean {
  return error.code === 'CONNECTION_LOST' || error.code === 'CONNECTION_FAILED';
}
