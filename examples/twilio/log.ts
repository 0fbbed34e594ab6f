/**
 * Logging for the example: a console logger (readable lines, or JSON lines with LOG_FORMAT=json)
 * that implements the library's `Logger`, and helpers to keep secrets and phone numbers out of logs.
 */
import type { Logger } from 'streaming-stt';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface ConsoleLoggerOptions {
  /** Lowest level printed. Default 'info'. */
  level?: LogLevel;
  /** 'pretty' (default): `12:00:01.234 INFO  message`; 'json': one JSON object per line with every field. */
  format?: 'pretty' | 'json';
  /** Where lines go. Default process.stdout. */
  write?: (line: string) => void;
}

/** A `Logger` printing to stdout. In pretty mode only the message is printed (it carries the essentials). */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const min = RANK[options.level ?? 'info'];
  const format = options.format ?? 'pretty';
  const write = options.write ?? ((line: string) => void process.stdout.write(line + '\n'));
  const log =
    (level: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (RANK[level] < min) return;
      if (format === 'json') {
        write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
        return;
      }
      const time = new Date().toISOString().slice(11, 23);
      write(`${time} ${level.toUpperCase().padEnd(5)} ${message}`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** `CA…1a2b3c`: a short, still distinctive label for a CallSid in log lines. */
export function shortSid(sid: string): string {
  return sid.length > 10 ? `${sid.slice(0, 2)}…${sid.slice(-6)}` : sid;
}

/** `+8210****5678`: a phone number with its middle digits hidden. Non-numbers pass through (clipped). */
export function maskPhone(value: string): string {
  const m = /^(\+?\d{4})(\d+)(\d{4})$/.exec(value);
  if (!m) return value.slice(0, 40);
  return `${m[1]}${'*'.repeat(m[2]!.length)}${m[3]}`;
}
