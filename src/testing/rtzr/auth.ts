/**
 * Authentication of the RTZR emulator: the `POST /v1/authenticate` form
 * check and the store of issued access tokens.
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { errorBody, type RtzrErrorBody } from './http-util.js';
import type { RtzrCredentials } from './types.js';

/** Largest authenticate body read, in bytes. */
const MAX_BODY_BYTES = 64 * 1024;

/** The token response of `POST /v1/authenticate`. */
export interface RtzrTokenResponse {
  access_token: string;
  /** Unix time in seconds. */
  expire_at: number;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Issued access tokens and their expiry. */
export class TokenStore {
  /** token -> expiry (ms since epoch) */
  private readonly tokens = new Map<string, number>();

  /** Issue a JWT-looking opaque token valid for `lifetimeSec` seconds. */
  issue(lifetimeSec: number, subject: string): RtzrTokenResponse {
    const now = Date.now();
    const expiresAtMs = now + lifetimeSec * 1000;
    const expireAt = Math.floor(expiresAtMs / 1000);
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const payload = base64url(
      JSON.stringify({ sub: subject, iat: Math.floor(now / 1000), exp: expireAt, jti: randomBytes(8).toString('hex') }),
    );
    const token = `${header}.${payload}.${base64url(randomBytes(32))}`;
    this.tokens.set(token, expiresAtMs);
    return { access_token: token, expire_at: expireAt };
  }

  /** Whether `token` was issued here and has not expired. */
  isValid(token: string): boolean {
    const exp = this.tokens.get(token);
    return exp !== undefined && Date.now() < exp;
  }

  /** Expire every token issued so far. */
  expireAll(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  /** Forget every token. */
  clear(): void {
    this.tokens.clear();
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Read a request body as text (at most 64 KiB; more rejects). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Outcome of checking an authenticate request. */
export type AuthCheck = { ok: true; clientId: string } | { ok: false; status: 400 | 401; body: RtzrErrorBody };

/**
 * Check an authenticate request: form encoding, both fields present, and
 * the credentials. 400 `H0001` on a bad body, 401 `H0002` on wrong credentials.
 */
export function checkAuthRequest(contentType: string | undefined, body: string, credentials: RtzrCredentials): AuthCheck {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return { ok: false, status: 400, body: errorBody(400, 'request body must be application/x-www-form-urlencoded') };
  }
  const form = new URLSearchParams(body);
  const clientId = form.get('client_id');
  const clientSecret = form.get('client_secret');
  if (!clientId || !clientSecret) {
    return { ok: false, status: 400, body: errorBody(400, 'client_id and client_secret are required') };
  }
  if (clientId !== credentials.clientId || clientSecret !== credentials.clientSecret) {
    return { ok: false, status: 401, body: errorBody(401, 'invalid credential') };
  }
  return { ok: true, clientId };
}
