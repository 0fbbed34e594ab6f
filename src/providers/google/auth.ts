/**
 * Google service-account OAuth2: an RS256-signed JWT (`iss`, `scope`, `aud`,
 * `iat`, `exp` ≤ 1 h) exchanged at `token_uri` with the JWT-bearer grant.
 * Source: https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 * @module
 */
import { createSign } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { request, timeoutSignal } from '../../transport/http.js';
import type { FetchedToken } from '../../auth/token-cache.js';
import { AuthenticationError, ConnectionError, TimeoutError, isSttError } from '../../errors/index.js';
import { isTransientStatus } from '../../transport/http-status.js';
import { parseRetryAfter } from '../../transport/retry-after.js';

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Build the signed assertion. @internal */
export function signServiceAccountJwt(email: string, privateKey: string, audience: string, nowSec: number): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(JSON.stringify({ iss: email, scope: SCOPE, aud: audience, iat: nowSec, exp: nowSec + 3600 }));
  const signer = createSign('RSA-SHA256');
  signer.update(`${header}.${claims}`);
  return `${header}.${claims}.${signer.sign(privateKey).toString('base64url')}`;
}

/** @internal */
export async function fetchGoogleToken(req: {
  provider: string;
  email: string;
  privateKey: string;
  tokenUri: string;
  timeoutMs: number;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}): Promise<FetchedToken> {
  let assertion: string;
  try {
    assertion = signServiceAccountJwt(req.email, req.privateKey, req.tokenUri, Math.floor(Date.now() / 1000));
  } catch {
    throw new AuthenticationError('Google service-account private_key cannot sign (not an RSA PEM key)', {
      provider: req.provider,
      retryable: false,
    });
  }
  const signal = AbortSignal.any([req.signal, timeoutSignal(req.timeoutMs)]);
  try {
    const res = await request(req.tokenUri, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      dispatcher: req.dispatcher,
      signal,
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      let detail = '';
      try {
        const o = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        detail = [o.error, o.error_description].filter((x) => typeof x === 'string').join(': ').slice(0, 200);
      } catch {
        /* not JSON */
      }
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      throw new AuthenticationError(`Google token request failed: HTTP ${res.statusCode}${detail ? ` (${detail})` : ''}`, {
        provider: req.provider,
        status: res.statusCode,
        retryable: isTransientStatus(res.statusCode),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    const o = JSON.parse(text) as { access_token?: unknown; expires_in?: unknown };
    if (typeof o.access_token !== 'string' || typeof o.expires_in !== 'number') {
      throw new AuthenticationError('Google token reply lacks access_token/expires_in', { provider: req.provider, retryable: true });
    }
    return { token: o.access_token, expiresAtMs: Date.now() + o.expires_in * 1000 };
  } catch (err) {
    if (isSttError(err)) throw err;
    if (signal.aborted && !req.signal.aborted) {
      throw new TimeoutError(`Google token request timed out after ${req.timeoutMs} ms`, { provider: req.provider, cause: err });
    }
    throw new ConnectionError('CONNECTION_FAILED', `Google token request failed: ${(err as Error).message}`, {
      provider: req.provider,
      cause: err,
    });
  }
}
