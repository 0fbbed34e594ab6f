/**
 * Validation of a stream's options, at construction: a value that would make
 * the stream quietly deliver nothing (`replayWindowMs: NaN`, `endTimeoutMs:
 * -1`, `highWaterMark: 0.5`) is a `ConfigurationError` (`INVALID_CONFIG`)
 * from `recognizer.stream()`, naming the option.
 * @module
 */
import { ConfigurationError } from '../errors/index.js';
import type { StreamOptions } from './types.js';

/** Smallest `replayWindowMs`: the stream must be able to hold a few chunks of audio. */
export const MIN_REPLAY_WINDOW_MS = 1000;
/** Largest `replayWindowMs` (10 minutes): every buffer is bounded. */
export const MAX_REPLAY_WINDOW_MS = 600_000;

/** A stream's options after defaults and validation. @internal */
export interface ResolvedStreamOptions {
  replayWindowMs: number;
  /** Undefined: not set; the provider's `capabilities.endTimeoutMs`, else 5000. */
  endTimeoutMs: number | undefined;
  /** Bytes; undefined: the default (2 s of the input format). */
  highWaterMark: number | undefined;
  interimResults: boolean;
  includeRaw: boolean;
}

/**
 * A duration in ms: a finite number from `min` to `max` (fractions allowed).
 * @throws {@link ConfigurationError} naming `name`.
 * @internal
 */
export function checkDurationMs(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be a number of ms from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/**
 * An integer from `min` to `max` (counts, bytes).
 * @throws {@link ConfigurationError} naming `name`.
 * @internal
 */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`${name} must be an integer from ${min} to ${max} (got ${describe(value)})`);
  }
  return value;
}

/** `replayWindowMs` (stream option or the recognizer's `fallback.replayWindowMs`). @internal */
export function checkReplayWindowMs(name: string, value: unknown): number {
  return checkDurationMs(name, value, MIN_REPLAY_WINDOW_MS, MAX_REPLAY_WINDOW_MS);
}

/**
 * Apply defaults and validate (the audio format is validated by `normalizeAudioFormat`).
 * @param defaultReplayWindowMs - the recognizer's `fallback.replayWindowMs`.
 * @throws {@link ConfigurationError} for the first invalid option.
 * @internal
 */
export function resolveStreamOptions(o: StreamOptions, defaultReplayWindowMs: number): ResolvedStreamOptions {
  if (typeof o !== 'object' || o === null) throw new ConfigurationError('stream options must be an object');
  for (const name of ['interimResults', 'includeRaw'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw new ConfigurationError(`${name} must be a boolean`);
  }
  if (o.language !== undefined && (typeof o.language !== 'string' || o.language === '')) {
    throw new ConfigurationError('language must be a BCP-47 string such as "ko-KR"');
  }
  const signal = o.signal as unknown;
  if (
    signal !== undefined &&
    (typeof signal !== 'object' || signal === null || typeof (signal as AbortSignal).addEventListener !== 'function')
  ) {
    throw new ConfigurationError('signal must be an AbortSignal');
  }
  return {
    replayWindowMs: checkReplayWindowMs('replayWindowMs', o.replayWindowMs ?? defaultReplayWindowMs),
    endTimeoutMs: o.endTimeoutMs === undefined ? undefined : checkDurationMs('endTimeoutMs', o.endTimeoutMs, 1, 600_000),
    highWaterMark: o.highWaterMark === undefined ? undefined : checkInteger('highWaterMark (bytes)', o.highWaterMark, 1),
    interimResults: o.interimResults ?? true,
    includeRaw: o.includeRaw ?? false,
  };
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 40));
  return typeof value;
}
