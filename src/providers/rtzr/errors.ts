/**
 * Map RTZR HTTP failures (`{code, msg}` bodies) to typed errors.
 * Codes: https://developers.rtzr.ai/docs/en/authentications (H0001, H0002, E500),
 * https://developers.rtzr.ai/docs/en/rate_limit (A0002).
 * @module
 */
import { isTransientStatus } from '../../transport/http-status.js';
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  type SttError,
} from '../../errors/index.js';

/** Parse an RTZR error body, tolerating anything. @internal */
export function parseRtzrErrorBody(text: string): { code?: string; msg?: string } {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return {
        ...(typeof o.code === 'string' ? { code: o.code } : {}),
        ...(typeof o.msg === 'string' ? { msg: o.msg.slice(0, 200) } : {}),
      };
    }
  } catch {
    /* not JSON */
  }
  return {};
}

/**
 * Typed error for an HTTP status from RTZR (`what` names the step: "authenticate", "handshake").
 * 401/403 → AuthenticationError (permanent; the provider refreshes the token once on a handshake
 * 401 before giving up); 429 → RateLimitError (transient, with `retryAfterMs`); 400 →
 * ConfigurationError (handshake: parameters rejected, `H0001`) or AuthenticationError
 * (authenticate), both permanent; 408/425/5xx → transient (AuthenticationError for authenticate,
 * `CONNECTION_FAILED` for the handshake); any other status → permanent ProviderError (e.g. 404:
 * a wrong `apiBase`/`websocketUrl`).
 * @param retryAfterMs - from the response's `Retry-After`, when it had one.
 * @internal
 */
export function rtzrHttpError(provider: string, what: string, status: number, bodyText: string, retryAfterMs?: number): SttError {
  const { code, msg } = parseRtzrErrorBody(bodyText);
  const detail = `${what} failed: HTTP ${status}${code ? ` ${code}` : ''}${msg ? ` (${msg})` : ''}`;
  const base = { provider, status, ...(code ? { providerCode: code } : {}), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  if (status === 429) return new RateLimitError(`RTZR ${detail}`, base);
  if (status === 401 || status === 403) return new AuthenticationError(`RTZR ${detail}`, { ...base, retryable: false });
  if (status === 400) {
    return what === 'authenticate'
      ? new AuthenticationError(`RTZR ${detail}`, { ...base, retryable: false })
      : new ConfigurationError(`RTZR ${detail}`, base);
  }
  if (isTransientStatus(status)) {
    return what === 'authenticate'
      ? new AuthenticationError(`RTZR ${detail}`, { ...base, retryable: true })
      : new ConnectionError('CONNECTION_FAILED', `RTZR ${detail}`, { ...base, retryable: true });
  }
  return new ProviderError(`RTZR ${detail}`, { ...base, retryable: false });
}
