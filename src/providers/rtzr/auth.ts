/**
 * RTZR authentication: `POST {apiBase}/v1/authenticate`, form-encoded
 * `client_id`/`client_secret`, reply `{access_token, expire_at}` with
 * `expire_at` in Unix **seconds** (tokens last 6 h).
 * Source: https://developers.rtzr.ai/docs/en/authentications
 * @module
 */
import type { Dispatcher } from 'undici';
import { request, timeoutSignal } from '../../transport/http.js';
import { ConnectionError, ProviderError, TimeoutError, isSttError } from '../../errors/index.js';
import type { FetchedToken } from '../../auth/token-cache.js';
import { parseRetryAfter } from '../../transport/retry-after.js';
import { rtzrHttpError } from './errors.js';

/** @internal */
export interface RtzrAuthRequest {
  provider: string;
  apiBase: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}

/** Fetch one access token. Rejects with a typed error; never includes the secret or token in messages. @internal */
export async function fetchRtzrToken(req: RtzrAuthRequest): Promise<FetchedToken> {
  const body = new URLSearchParams({ client_id: req.clientId, client_secret: req.clientSecret }).toString();
  const signal = AbortSignal.any([req.signal, timeoutSignal(req.timeoutMs)]);
  try {
    const res = await request(`${req.apiBase}/v1/authenticate`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      dispatcher: req.dispatcher,
      signal,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw rtzrHttpError(req.provider, 'authenticate', res.statusCode, text, parseRetryAfter(res.headers['retry-after']));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ProviderError('RTZR authenticate returned a body that is not JSON', { provider: req.provider });
    }
    const o = (parsed ?? {}) as Record<string, unknown>;
    if (typeof o.access_token !== 'string' || o.access_token === '' || typeof o.expire_at !== 'number') {
      throw new ProviderError('RTZR authenticate reply lacks access_token/expire_at', { provider: req.provider });
    }
    const expiresAtMs = o.expire_at * 1000;
    if (expiresAtMs <= Date.now()) {
      throw new ProviderError('RTZR authenticate returned a token that has already expired', { provider: req.provider });
    }
    return { token: o.access_token, expiresAtMs };
  } catch (err) {
    if (isSttError(err)) throw err;
    if (signal.aborted && !req.signal.aborted) {
      throw new TimeoutError(`RTZR authenticate timed out after ${req.timeoutMs} ms`, {
        provider: req.provider,
        cause: err,
      });
    }
    throw new ConnectionError('CONNECTION_FAILED', `RTZR authenticate request failed: ${(err as Error).message}`, {
      provider: req.provider,
      cause: err,
    });
  }
}
