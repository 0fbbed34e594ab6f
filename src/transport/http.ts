/**
 * The providers' HTTP requests (RTZR `POST /v1/authenticate`, Google's OAuth2
 * token exchange and `speech:recognize`).
 *
 * They go through the global `fetch`, looked up at each call, so that
 * whatever a process installs there sees them: msw's `setupServer` in a
 * user's tests (it patches `globalThis.fetch`), APM agents. Each provider
 * passes its own dispatcher, an undici `EnvHttpProxyAgent`: a keep-alive pool
 * (one TLS handshake per host, not per request) that honours `HTTPS_PROXY`,
 * `HTTP_PROXY` and `NO_PROXY` (also lower-case), read when the provider is
 * created. Redirects are not followed (a credential is never re-sent to
 * another host), and a response body is read up to a bound.
 * @module
 * @internal
 */
import { EnvHttpProxyAgent, type Dispatcher } from 'undici';

/** Largest response body read, bytes (a token reply is < 2 KiB; a recognize reply for 55 s of speech < 1 MiB). */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** A response, shaped like the part of undici's `request()` result the providers use. */
export interface HttpResponse {
  statusCode: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: {
    /** The body as text. Rejects when it is larger than {@link MAX_RESPONSE_BYTES}. */
    text(): Promise<string>;
  };
}

/** What {@link request} takes (a subset of undici's `request()` options). */
export interface HttpRequestOptions {
  method: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  dispatcher: Dispatcher;
  signal: AbortSignal;
}

/**
 * `AbortSignal.timeout(ms)` that is sure to fire. A timeout signal that only an
 * `AbortSignal.any()` refers to can be garbage-collected (and its timer cleared) while the request
 * still waits, so a hung server would never time out; an abort listener keeps it alive until it
 * fires (Node holds timeout signals with listeners strongly).
 */
export function timeoutSignal(ms: number): AbortSignal {
  const signal = AbortSignal.timeout(ms);
  signal.addEventListener('abort', noop, { once: true });
  return signal;
}

const noop = (): void => {};

/**
 * A provider's connection pool: keep-alive, proxy-aware (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`).
 * @param connections - most sockets per origin.
 */
export function createHttpDispatcher(connections: number): Dispatcher {
  return new EnvHttpProxyAgent({ keepAliveTimeout: 30_000, connections });
}

/**
 * One request through the global `fetch` with `dispatcher`. Rejects like `fetch` (the signal's
 * reason on abort), except that a network failure's message says what failed (`connect
 * ECONNREFUSED 127.0.0.1:443`, `getaddrinfo ENOTFOUND host`) instead of `fetch failed`.
 */
export async function request(url: string, o: HttpRequestOptions): Promise<HttpResponse> {
  const init = {
    method: o.method,
    headers: o.headers,
    body: o.body,
    signal: o.signal,
    redirect: 'manual',
    dispatcher: o.dispatcher, // undici's extension of RequestInit; ignored by fetch mocks
  } as RequestInit;
  let res: Response;
  try {
    res = await globalThis.fetch(url, init);
  } catch (err) {
    if (o.signal.aborted) throw err;
    throw new Error(networkFailure(err), { cause: err });
  }
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => (headers[name] = value));
  return { statusCode: res.status, headers, body: { text: () => readText(res) } };
}

async function readText(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      reader.cancel().catch(() => {}); // not awaited: a peer that stalls must not stall us
      throw new Error(`response body larger than ${MAX_RESPONSE_BYTES} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size).toString('utf8');
}

/** `fetch failed` with the reason from its cause chain (error code and message of the socket error). */
function networkFailure(err: unknown): string {
  const seen = new Set<unknown>();
  let e: unknown = err;
  let detail = '';
  while (e instanceof Error && !seen.has(e)) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (e.message && e.message !== 'fetch failed') detail = typeof code === 'string' && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
    e = e.cause;
  }
  return detail || (err instanceof Error ? err.message : String(err));
}
