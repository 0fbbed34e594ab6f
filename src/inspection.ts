/**
 * How the package's long-lived objects show in `util.inspect()` (and so
 * `console.log()`) and `JSON.stringify()` (and so pino, winston and other
 * loggers that serialise objects): a plain view of state and counters built
 * by each class, never the credentials or tokens it holds (those live in
 * private `#` fields where the class keeps them itself).
 * @module
 * @internal
 */
import type { inspect, InspectOptionsStylized } from 'node:util';

/** Stands in for a credential or token in views. */
export const REDACTED = '[redacted]';

/** Render `view` as `Name { … }` for a `[util.inspect.custom]` method, honouring `depth`. */
export function inspectView(
  name: string,
  view: object,
  depth: number,
  options: InspectOptionsStylized,
  inspectFn: typeof inspect,
): string {
  if (depth < 0) return options.stylize(`[${name}]`, 'special');
  const inner = inspectFn(view, { ...options, depth: options.depth === null || options.depth === undefined ? null : options.depth - 1 });
  return `${name} ${inner}`;
}

/** A URL for a view: without user-info, and with the query string and fragment replaced (they may carry a token). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.search !== '' || u.hash !== '';
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return hidden ? `${u.toString()}?${REDACTED}` : u.toString();
  } catch {
    return '(invalid url)';
  }
}

/** Header names with their values redacted (header values may carry credentials). */
export function redactHeaders(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.keys(headers).map((k) => [k, REDACTED]));
}

/** The view of a provider session (its socket and options may hold a token or key: never shown). */
export function sessionView(provider: string, session: { costs: unknown; bufferedAmount: number }, closed: boolean): Record<string, unknown> {
  return { provider, costs: session.costs, bufferedAmount: session.bufferedAmount, closed };
}
