/**
 * Which HTTP statuses are worth trying again: 408 (request timeout), 425 (too early), 429 (too
 * many requests) and every 5xx. Other 4xx say the request itself is wrong (credentials, URL,
 * parameters) and will fail the same way again.
 * Source: https://www.rfc-editor.org/rfc/rfc9110#name-status-codes
 * @module
 * @internal
 */

/** True for a status that a later attempt may not get again. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
