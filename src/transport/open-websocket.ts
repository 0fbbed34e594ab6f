/**
 * Open a client WebSocket with one time budget and typed errors, for every
 * WebSocket provider (RTZR, Faster-Whisper, WhisperLive).
 *
 * The budget covers DNS, TCP, TLS and the HTTP upgrade. A rejected upgrade
 * maps its status to an error class (401/403 → `AuthenticationError`, 429 →
 * `RateLimitError` with `retryAfterMs` from `Retry-After`, anything else →
 * `ConnectionError` `CONNECTION_FAILED`, retryable for 408/425/5xx), or to the
 * provider's own mapping of the status and the response body (RTZR's
 * `{code, msg}`). Messages name the host only: never the path, query or
 * user-info of the URL, which may carry a token.
 * @module
 * @internal
 */
import WebSocket from 'ws';
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  RateLimitError,
  TimeoutError,
  type SttError,
} from '../errors/index.js';
import { wsProxyOptions } from './proxy.js';
import { isTransientStatus } from './http-status.js';
import { parseRetryAfter } from './retry-after.js';

const noop = (): void => {};

/** A rejected upgrade: the HTTP response instead of 101. */
export interface UpgradeRejection {
  status: number;
  /** The first 4 KiB of the response body, as text. */
  body: string;
  /** From `Retry-After`, ms, when the response had a valid one. */
  retryAfterMs?: number;
}

/** Largest part of a rejection body kept, bytes. */
const REJECTION_BODY_BYTES = 4096;

/** What {@link openWebSocket} needs. */
export interface OpenWebSocketOptions {
  /** Provider id, set on every error. */
  provider: string;
  /** Human name of the server in messages (`'Faster-Whisper'`). */
  label: string;
  url: string;
  /** Extra upgrade request headers (e.g. `Authorization`); never logged. */
  headers?: Record<string, string>;
  /** Budget of the whole opening handshake, ms. */
  timeoutMs: number;
  signal: AbortSignal;
  /** Largest message accepted from the server, bytes. Default 16 MiB. */
  maxPayload?: number;
  /** The error of a rejected upgrade. Default {@link upgradeError}. */
  rejectionError?: (rejection: UpgradeRejection) => SttError;
}

/** Host (and port) of a URL, for messages. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid url)';
  }
}

/** Typed error for an HTTP status that rejected the upgrade. */
export function upgradeError(provider: string, label: string, rejection: UpgradeRejection): SttError {
  const { status, retryAfterMs } = rejection;
  const message = `${label} rejected the WebSocket handshake: HTTP ${status}`;
  const wait = retryAfterMs === undefined ? {} : { retryAfterMs };
  if (status === 401 || status === 403) return new AuthenticationError(message, { provider, status, retryable: false });
  if (status === 429) return new RateLimitError(message, { provider, status, ...wait });
  return new ConnectionError('CONNECTION_FAILED', message, { provider, status, retryable: isTransientStatus(status), ...wait });
}

/**
 * Open the socket. Resolves once the upgrade completed; rejects with
 * `AbortError`, `TimeoutError`, `AuthenticationError`, `RateLimitError` or
 * `ConnectionError` (`CONNECTION_FAILED`), having released the socket.
 */
export function openWebSocket(o: OpenWebSocketOptions): Promise<WebSocket> {
  const { provider, label } = o;
  return new Promise((resolve, reject) => {
    if (o.signal.aborted) {
      reject(new AbortError('stream aborted before connecting', { provider }));
      return;
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(o.url, {
        ...(o.headers ? { headers: o.headers } : {}),
        perMessageDeflate: false,
        maxPayload: o.maxPayload ?? 16 * 1024 * 1024,
        ...wsProxyOptions(o.url), // HTTP(S)_PROXY / NO_PROXY
      });
    } catch (err) {
      reject(new ConnectionError('CONNECTION_FAILED', `${label}: cannot open ${hostOf(o.url)}`, { provider, cause: err, retryable: false }));
      return;
    }
    ws.on('error', noop); // permanent sink: ws may emit 'error' after we stop listening
    let settled = false;
    const settle = (err: SttError | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      ws.off('open', onOpen);
      if (err) {
        ws.terminate();
        reject(err);
      } else resolve(ws);
    };
    const timer = setTimeout(
      () => settle(new TimeoutError(`${label} handshake with ${hostOf(o.url)} timed out after ${o.timeoutMs} ms`, { provider })),
      o.timeoutMs,
    );
    const onAbort = (): void => settle(new AbortError('stream aborted while connecting', { provider }));
    const onOpen = (): void => settle(undefined);
    o.signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', onOpen);
    ws.once('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < REJECTION_BODY_BYTES) chunks.push(c.subarray(0, REJECTION_BODY_BYTES - size));
        size += c.length;
      });
      res.on('error', noop);
      const done = (): void => {
        const rejection: UpgradeRejection = {
          status,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
        };
        settle(o.rejectionError ? o.rejectionError(rejection) : upgradeError(provider, label, rejection));
      };
      res.once('end', done);
      res.once('close', done);
    });
    ws.once('error', (err: Error) =>
      settle(
        new ConnectionError('CONNECTION_FAILED', `${label} connection to ${hostOf(o.url)} failed: ${err.message}`, {
          provider,
          cause: err,
        }),
      ),
    );
    ws.once('close', () =>
      settle(new ConnectionError('CONNECTION_FAILED', `${label} closed the connection during the handshake`, { provider })),
    );
  });
}
