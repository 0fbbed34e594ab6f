/**
 * Service-account JWT checks of the emulator's token endpoint (RS256, aud, exp, scope).
 * @module
 * @internal
 */
import { createVerify, type KeyObject } from 'node:crypto';

/** True when `assertion` is an RS256 JWT signed by `publicKey` for `audience`, not expired, with the cloud-platform scope. */
export function verifyAssertion(assertion: string, publicKey: KeyObject, audience: string, email: string): boolean {
  const parts = assertion.split('.');
  if (parts.length !== 3) return false;
  const [h, c, sig] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
    const claims = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as {
      iss?: string;
      aud?: string;
      exp?: number;
      iat?: number;
      scope?: string;
    };
    if (header.alg !== 'RS256') return false;
    const v = createVerify('RSA-SHA256');
    v.update(`${h}.${c}`);
    if (!v.verify(publicKey, Buffer.from(sig, 'base64url'))) return false;
    const now = Date.now() / 1000;
    return (
      claims.iss === email &&
      claims.aud === audience &&
      typeof claims.exp === 'number' &&
      claims.exp > now &&
      typeof claims.iat === 'number' &&
      claims.exp - claims.iat <= 3600 &&
      typeof claims.scope === 'string' &&
      claims.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')
    );
  } catch {
    return false;
  }
}
