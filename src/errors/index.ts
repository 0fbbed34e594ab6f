/**
 * Typed errors with stable codes.
 *
 * Every error this package raises or emits is an {@link SttError}. Branch on
 * `code` (stable across releases), not on the message. `instanceof` works
 * across duplicate copies of the package (two versions in one `node_modules`
 * tree) because the check uses a `Symbol.for` brand, as undici's errors do.
 * Messages never contain secrets or access tokens.
 *
 * @module
 */

/** Stable error codes. */
export type SttErrorCode =
  | 'AUTH_FAILED'
  | 'RATE_LIMITED'
  | 'CONNECTION_FAILED'
  | 'CONNECTION_LOST'
  | 'TIMEOUT'
  | 'PROVIDER_ERROR'
  | 'INVALID_AUDIO'
  | 'INVALID_CONFIG'
  | 'INVALID_STATE'
  | 'ABORTED'
  | 'ALL_PROVIDERS_FAILED';

/** Options shared by every error constructor. */
export interface SttErrorOptions {
  /** Id of the provider the error comes from (`'rtzr'`, `'google'`, …). */
  provider?: string;
  /** HTTP status (handshake or REST), when there was one. */
  status?: number;
  /** Provider-specific error code, e.g. RTZR's `H0002` or `A0002`. */
  providerCode?: string;
  /** Whether trying again (same or next provider) may succeed. Defaults per class. */
  retryable?: boolean;
  /** The server asked to wait this long before trying again (HTTP `Retry-After`), ms. */
  retryAfterMs?: number;
  /** The underlying error. */
  cause?: unknown;
}

const BRAND = Symbol.for('streaming-stt.SttError');
const CLASS_BRAND = Symbol.for('streaming-stt.SttError.class');

type Branded = { [BRAND]?: true; [CLASS_BRAND]?: string[] };

/**
 * Base class of every error of this package.
 *
 * @example
 * ```ts
 * stream.on('error', (err) => {
 *   if (err.code === 'AUTH_FAILED') alertOps(err.message);
 * });
 * ```
 */
export class SttError extends Error {
  /** Stable machine-readable code. */
  readonly code: SttErrorCode;
  /** Provider id, when the error comes from one provider. */
  readonly provider?: string;
  /** HTTP status, when the error comes from an HTTP response or a rejected WebSocket handshake. */
  readonly status?: number;
  /** The provider's own error code (`H0002`, `A0002`, …), when it sent one. */
  readonly providerCode?: string;
  /** Whether a retry (or the next provider) may succeed. */
  readonly retryable: boolean;
  /** The server asked to wait this long before trying again (HTTP `Retry-After` on a 429), ms. */
  readonly retryAfterMs?: number;

  constructor(code: SttErrorCode, message: string, options: SttErrorOptions = {}, defaultRetryable = false) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.provider !== undefined) this.provider = options.provider;
    if (options.status !== undefined) this.status = options.status;
    if (options.providerCode !== undefined) this.providerCode = options.providerCode;
    this.retryable = options.retryable ?? defaultRetryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
    (this as Branded)[BRAND] = true;
    const chain: string[] = [];
    for (let p = new.target; p && p !== (Error as unknown); p = Object.getPrototypeOf(p)) chain.push(p.name);
    (this as Branded)[CLASS_BRAND] = chain;
  }

  /**
   * What `JSON.stringify()` (and loggers that serialise errors) show: name, code, message and the
   * fields above; not `cause` (an underlying error of another library) and never a secret.
   */
  toJSON(): Record<string, unknown> {
    const o: Record<string, unknown> = { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
    if (this.provider !== undefined) o.provider = this.provider;
    if (this.status !== undefined) o.status = this.status;
    if (this.providerCode !== undefined) o.providerCode = this.providerCode;
    if (this.retryAfterMs !== undefined) o.retryAfterMs = this.retryAfterMs;
    return o;
  }

  /**
   * `err instanceof SttError` (or any subclass) is true for errors of this package even when two
   * copies of it are installed (two versions in `node_modules`): the check reads a brand that every
   * copy shares (`Symbol.for`), not the prototype chain. See also {@link isSttError}.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null || !(value as Branded)[BRAND]) return false;
    const chain = (value as Branded)[CLASS_BRAND] ?? [];
    return chain.includes(this.name);
  }
}

/** Credentials rejected or the token could not be obtained. Code `AUTH_FAILED`. */
export class AuthenticationError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('AUTH_FAILED', message, options, false);
  }
}

/** Concurrency or quota limit hit (RTZR 429 `A0002`, WhisperLive `WAIT`). Code `RATE_LIMITED`. */
export class RateLimitError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('RATE_LIMITED', message, options, true);
  }
}

/** A connection could not be opened (`CONNECTION_FAILED`) or dropped while in use (`CONNECTION_LOST`). */
export class ConnectionError extends SttError {
  constructor(code: 'CONNECTION_FAILED' | 'CONNECTION_LOST', message: string, options: SttErrorOptions = {}) {
    super(code, message, options, true);
  }
}

/** An operation did not finish in its time budget. Code `TIMEOUT`. */
export class TimeoutError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('TIMEOUT', message, options, true);
  }
}

/** The provider sent an error, or something the protocol does not allow. Code `PROVIDER_ERROR`. */
export class ProviderError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('PROVIDER_ERROR', message, options, true);
  }
}

/** Audio that cannot be what the stream declared (odd LINEAR16 bytes, non-binary chunk, bad WAV). Code `INVALID_AUDIO`. */
export class AudioFormatError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('INVALID_AUDIO', message, options, false);
  }
}

/** Invalid or missing options (credentials, sample rate, encoding, decoder options). Code `INVALID_CONFIG`. */
export class ConfigurationError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('INVALID_CONFIG', message, options, false);
  }
}

/**
 * A call that the object's state does not allow (`recognizer.stream()` after `close()`). Code
 * `INVALID_STATE`. `stream.write()` never throws it: it returns false after the stream ended.
 */
export class StateError extends SttError {
  constructor(message: string, options: SttErrorOptions = {}) {
    super('INVALID_STATE', message, options, false);
  }
}

/** The operation was aborted by `abort()`, an `AbortSignal` or `close()`. Code `ABORTED`. */
export class AbortError extends SttError {
  constructor(message = 'aborted', options: SttErrorOptions = {}) {
    super('ABORTED', message, options, false);
  }
}

/** Every provider in the list failed. `errors` holds each provider's last error. Code `ALL_PROVIDERS_FAILED`. */
export class AllProvidersFailedError extends SttError {
  /** The last error of each provider tried, in order. */
  readonly errors: SttError[];
  constructor(errors: SttError[], message?: string) {
    super(
      'ALL_PROVIDERS_FAILED',
      message ?? `all providers failed: ${errors.map((e) => `${e.provider ?? '?'}: ${e.code}`).join(', ')}`,
      { retryable: false, cause: errors[errors.length - 1] },
    );
    this.errors = errors;
  }

  /** {@link SttError.toJSON} plus each provider's error. */
  override toJSON(): Record<string, unknown> {
    // An error from another (older) copy of the package may have no toJSON.
    const view = (e: SttError) => (typeof e.toJSON === 'function' ? e.toJSON() : { code: e.code, message: e.message });
    return { ...super.toJSON(), errors: this.errors.map(view) };
  }
}

/**
 * True when `value` is an {@link SttError}, from this copy of the package or
 * any other copy loaded in the same process.
 */
export function isSttError(value: unknown): value is SttError {
  return typeof value === 'object' && value !== null && (value as Branded)[BRAND] === true;
}

/** Wrap anything thrown into an {@link SttError} (unknown errors become `PROVIDER_ERROR`). @internal */
export function toSttError(value: unknown, provider?: string): SttError {
  if (isSttError(value)) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new ProviderError(message, { cause: value, ...(provider ? { provider } : {}) });
}
