/**
 * How the command line reports failures: a typed code and a message on
 * stderr, a documented exit status, and no stack trace for anything expected.
 * @module
 */
import { isSttError, type SttError } from '../errors/index.js';

/** Exit statuses (documented in the usage text and docs/cli.md). */
export const EXIT = Object.freeze({
  ok: 0,
  /** Recognition failed (provider, network, credentials), or `check` found a provider failing. */
  failed: 1,
  /** Bad command line: unknown command or flag, missing or invalid value, inconsistent configuration. */
  usage: 2,
  /** The input cannot be read or is not audio the library reads. */
  input: 3,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
});

/** A failure of the command line itself, with a stable code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad command line (exit 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super('USAGE', message, EXIT.usage);
  }
}

/** Unreadable input (exit 3). */
export class InputError extends CliError {
  constructor(code: string, message: string) {
    super(code, message, EXIT.input);
  }
}

/** Exit status for an error. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (isSttError(err)) {
    if (err.code === 'INVALID_CONFIG') return EXIT.usage;
    if (err.code === 'INVALID_AUDIO') return EXIT.input;
    if (err.code === 'ABORTED') return EXIT.interrupted;
    return EXIT.failed;
  }
  return EXIT.failed;
}

/**
 * The lines to print on stderr: `error CODE: message`, then one line per provider for
 * `ALL_PROVIDERS_FAILED`. Unexpected errors (bugs) keep their stack, to be reported.
 */
export function describeError(err: unknown): string[] {
  if (err instanceof CliError || isSttError(err)) {
    const lines = [`error ${err.code}: ${err.message}`];
    const nested = (err as SttError & { errors?: unknown[] }).errors;
    if (Array.isArray(nested)) {
      for (const e of nested) if (isSttError(e)) lines.push(`  ${e.provider ?? '?'}: ${e.code}: ${e.message}`);
    }
    return lines;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return [`unexpected error: ${e.message}`, ...(e.stack?.split('\n').slice(1) ?? [])];
}
