/**
 * The injectable logger. Default: silent. Pass `console` or a pino/winston
 * logger (any object with these four methods). The library never logs
 * secrets or tokens, and logs per-frame events only at `debug`.
 * @module
 */
import { ConfigurationError } from './errors/index.js';

/** A leveled logger: `{ debug, info, warn, error }`, each `(message, fields?) => void`. */
export interface Logger {
  /** Detail for debugging (per-connection and per-message steps); usually off in production. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** Notable but expected: a provider recovered, a token refreshed after a 401, audio written after the end. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something failed or was dropped: a stream failed, a connection was lost and is being recovered, audio was dropped. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Reserved for failures of the library itself; the library reports stream failures at `warn` (and as `error` events). */
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/**
 * Validate a caller's logger and wrap it so that it can never break a stream: a method that throws
 * (or returns a promise that rejects) is ignored. Methods are called on the logger itself, so
 * pino, winston and `console` keep their `this`. `undefined` gives the silent logger.
 * @throws {@link ConfigurationError} (`INVALID_CONFIG`) when `logger` lacks one of `debug`, `info`,
 * `warn`, `error` as a function.
 * @internal
 */
export function resolveLogger(logger: unknown): Logger {
  if (logger === undefined) return silentLogger;
  const missing =
    typeof logger === 'object' || typeof logger === 'function'
      ? LEVELS.filter((l) => typeof (logger as Record<string, unknown> | null)?.[l] !== 'function')
      : [...LEVELS];
  if (missing.length > 0) {
    throw new ConfigurationError(
      `logger must have debug, info, warn and error functions (missing: ${missing.join(', ')}); pass console, a pino or winston logger, or nothing`,
    );
  }
  const target = logger as Logger;
  const safe = (level: (typeof LEVELS)[number]) => {
    return (message: string, fields?: Record<string, unknown>): void => {
      try {
        const r = (target[level] as (m: string, f?: Record<string, unknown>) => unknown).call(target, message, fields);
        if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
          (r as PromiseLike<unknown>).then(undefined, noop);
        }
      } catch {
        /* a broken logger must not break a call */
      }
    };
  };
  return Object.freeze({ debug: safe('debug'), info: safe('info'), warn: safe('warn'), error: safe('error') });
}
