/**
 * HTTP `Retry-After` (RFC 9110 §10.2.3): either a number of seconds
 * (`Retry-After: 120`) or an HTTP-date (`Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`).
 * Source: https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 * @module
 * @internal
 */

/** Longest wait taken from a server, ms (a day): anything above is clamped. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * The wait a `Retry-After` header value asks for, ms (0 for a date in the past), or `undefined`
 * when absent or unparseable. Takes the first value of a repeated header.
 */
export function parseRetryAfter(value: string | readonly string[] | undefined | null, nowMs = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (typeof raw !== 'string') return undefined;
  const v = raw.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date has a day name, a comma or a GMT zone; plain words ("soon") are not dates.
  if (!/[A-Za-z]{3}/.test(v) || !/\d/.test(v)) return undefined;
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - nowMs), MAX_RETRY_AFTER_MS);
}
