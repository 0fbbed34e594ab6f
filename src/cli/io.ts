/**
 * The process streams and environment a command runs with (injected, so a
 * command never reaches for globals itself).
 * @module
 */
import type { WriteStream } from 'node:tty';

/** Streams, environment and interrupt signal of a command. */
export interface Io {
  stdout: NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns' | 'hasColors'>>;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Fires on Ctrl-C: the command stops and reports what it has. */
  signal: AbortSignal;
}

/** A line on stderr, prefixed with the program name. */
export function note(io: Io, text: string): void {
  io.stderr.write(`streaming-stt: ${text}\n`);
}

/** Whether to write NDJSON: `--json`, or stdout is not a terminal (unless `--text`). */
export function wantsJson(format: 'json' | 'human' | 'auto', io: Io): boolean {
  return format === 'json' || (format === 'auto' && io.stdout.isTTY !== true);
}
