/**
 * Twilio's voice webhook (`POST /twiml`): signature check and the `<Connect><Stream>` TwiML.
 *
 * Signature: https://www.twilio.com/docs/usage/webhooks/webhooks-security, checked with the
 * official `twilio` package's `validateRequest` against the URL Twilio was configured with
 * (PUBLIC_URL + path and query): behind a tunnel or proxy the Host header is not that URL.
 * TwiML: https://www.twilio.com/docs/voice/twiml/stream. `<Connect><Stream>` makes a bidirectional
 * stream (needed for `clear`/barge-in and DTMF); Twilio drops query strings from the stream URL,
 * so per-call values travel as `<Parameter>`s and arrive in `start.customParameters`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import twilio from 'twilio';
import { ConfigurationError } from 'streaming-stt';

/** Path of the webhook and of the media stream. */
export const WEBHOOK_PATH = '/twiml';
export const MEDIA_STREAM_PATH = '/media-stream';
/** Largest webhook body read, bytes (Twilio's are about 1 KB). */
const MAX_BODY = 64 * 1024;

/** The server's public origin, for TwiML and signatures: `https://…` and the matching `wss://…`. */
export interface PublicOrigin {
  http: string;
  ws: string;
}

/**
 * Check PUBLIC_URL: an `https://` (or `http://` for local tests) origin, no path, query or hash.
 * @throws ConfigurationError otherwise.
 */
export function parsePublicUrl(value: string): PublicOrigin {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigurationError(`PUBLIC_URL must be a URL such as https://abc.ngrok.app, got ${JSON.stringify(value)}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigurationError(`PUBLIC_URL must start with https:// (Twilio needs TLS), got ${u.protocol}//`);
  }
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash || u.username || u.password) {
    throw new ConfigurationError(`PUBLIC_URL must be an origin only (scheme, host, optional port), got ${JSON.stringify(value)}`);
  }
  return { http: u.origin, ws: u.origin.replace(/^http/, 'ws') };
}

/**
 * The public origin of a request when PUBLIC_URL is not set: from X-Forwarded-Proto/Host. Only for
 * TwiML; signatures are never checked against it (a client controls these headers).
 */
export function originFromRequest(req: IncomingMessage): PublicOrigin {
  const host = req.headers['x-forwarded-host'] ?? req.headers.host ?? 'localhost';
  const h = Array.isArray(host) ? host[0]! : host.split(',')[0]!.trim();
  const fwd = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
  const local = /^(localhost|127\.|\[::1\])/.test(h);
  const secure = proto ? proto === 'https' : !local;
  return { http: `${secure ? 'https' : 'http'}://${h}`, ws: `${secure ? 'wss' : 'ws'}://${h}` };
}

/** An HTTP error answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Read an `application/x-www-form-urlencoded` body (bounded). */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw new HttpError(415, 'expected application/x-www-form-urlencoded');
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) {
      req.destroy();
      throw new HttpError(413, 'body too large');
    }
    parts.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(parts).toString('utf8'));
}

/** Form fields as twilio's validator wants them (a repeated key becomes an array). */
export function formParams(form: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(form.keys())) {
    const all = form.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

/** Whether `X-Twilio-Signature` is Twilio's signature of `url` (+ `params`) with `authToken`. */
export function isValidSignature(
  authToken: string,
  header: string | string[] | undefined,
  url: string,
  params: Record<string, string | string[]>,
): boolean {
  if (typeof header !== 'string' || header === '') return false;
  return twilio.validateRequest(authToken, header, url, params);
}

/** `<Response><Connect><Stream url="…"><Parameter …/>…</Stream></Connect></Response>`. */
export function buildTwiml(streamUrl: string, parameters: Record<string, string>): string {
  const response = new twilio.twiml.VoiceResponse();
  const stream = response.connect().stream({ url: streamUrl });
  for (const [name, value] of Object.entries(parameters)) stream.parameter({ name, value });
  return response.toString();
}

/** Send a plain-text answer. */
export function sendText(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
