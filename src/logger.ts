/**
 * The injectable logger. Default: silent. Pass `console` or a pino/winston
 * logger (any object with these four methods). The library never logs
 * secrets or tokens, and logs per-frame events only at `debug`.
 * @module
 */

/** A leveled logger: `{ debug, info, warn, error }`, each `(message, fields?) => void`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/** A logger that drops everything (the default). */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });
