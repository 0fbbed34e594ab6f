/**
 * Twilio request signatures (`X-Twilio-Signature`), computed with node:crypto.
 * @module
 */
import { createHmac } from 'node:crypto';

/**
 * The `X-Twilio-Signature` Twilio sends with a request to `url`:
 * base64(HMAC-SHA1(key = Auth Token, data = the full URL, then for each POST parameter sorted
 * by name, the name immediately followed by its value)). A WebSocket handshake is signed over its
 * `wss://` URL with no parameters.
 *
 * Source: https://www.twilio.com/docs/usage/webhooks/webhooks-security (and twilio-node's
 * `getExpectedTwilioSignature`, which the package's tests compare this with).
 *
 * @param authToken - the account's (primary) Auth Token.
 * @param url - the full URL as configured, including any query string.
 * @param params - POST form parameters; an array value contributes each of its values, sorted.
 * @returns the base64 signature.
 */
export function twilioSignature(authToken: string, url: string, params: Record<string, string | string[]> = {}): string {
  let data = url;
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    if (Array.isArray(value)) for (const v of [...new Set(value)].sort()) data += key + v;
    else data += key + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}
