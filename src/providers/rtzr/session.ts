/**
 * One RTZR WebSocket: opened with `Authorization: Bearer <token>`, audio as
 * binary frames, `{"type":"Finalize"}` to end an utterance early, `EOS` to end
 * the stream (the server sends the remaining finals, then closes).
 * Sources: https://developers.rtzr.ai/docs/en/stt-streaming/websocket ;
 * Finalize: https://developers.rtzr.ai/docs/en/stt-streaming/#ai-voice-agent (via LiveKit PR #7284).
 * @module
 */
import { inspect, type InspectOptionsStylized } from 'node:util';
import WebSocket from 'ws';
import { AbortError, ConnectionError, TimeoutError, type SttError, toSttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../provider.js';
import { rtzrHttpError } from './errors.js';
import { parseRtzrFrame } from './messages.js';
import { inspectView, sessionView } from '../../inspection.js';
import { wsProxyOptions } from '../../transport/proxy.js';

const noop = (): void => {};
/** ws copies its options, so one object serves every audio frame. */
const BINARY = Object.freeze({ binary: true });

/** Open the socket; rejects with a typed error (`status` set for a rejected handshake). @internal */
export function openRtzrSocket(
  provider: string,
  url: string,
  token: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new AbortError('stream aborted before connecting', { provider }));
      return;
    }
    const ws = new WebSocket(url, {
      headers: { Authorization: `Bearer ${token}` },
      handshakeTimeout: timeoutMs,
      perMessageDeflate: false,
      ...wsProxyOptions(url), // HTTPS_PROXY / NO_PROXY, as for the authenticate request
    });
    ws.on('error', noop); // permanent sink: ws may emit 'error' after we stop listening
    let settled = false;
    const settle = (err: SttError | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      ws.off('open', onOpen);
      if (err) {
        ws.terminate();
        reject(err);
      } else resolve(ws);
    };
    const onAbort = (): void => settle(new AbortError('stream aborted while connecting', { provider }));
    const onOpen = (): void => settle(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('open', onOpen);
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 4096) chunks.push(c);
        size += c.length;
      });
      res.on('error', noop);
      res.on('end', () =>
        settle(rtzrHttpError(provider, 'handshake', res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))),
      );
      res.on('close', () => settle(rtzrHttpError(provider, 'handshake', res.statusCode ?? 0, '')));
    });
    ws.once('error', (err: Error) => {
      const timedOut = /timed out/i.test(err.message);
      settle(
        timedOut
          ? new TimeoutError(`RTZR handshake timed out after ${timeoutMs} ms`, { provider, cause: err })
          : new ConnectionError('CONNECTION_FAILED', `RTZR connection failed: ${err.message}`, { provider, cause: err }),
      );
    });
    ws.once('close', () => settle(new ConnectionError('CONNECTION_FAILED', 'RTZR closed during the handshake', { provider })));
  });
}

/** @internal */
export interface RtzrSessionInit {
  provider: string;
  ws: WebSocket;
  costs: SessionCosts;
  bytesPerMs: number;
  pingIntervalMs: number;
  includeRaw: boolean;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
}

/** A session over one open RTZR socket. @internal */
export class RtzrSession implements ProviderSession {
  readonly costs: SessionCosts;
  private readonly ws: WebSocket;
  private sentBytes = 0;
  private eosSent = false;
  private closed = false;
  private failed = false;
  private readonly ping: NodeJS.Timeout;
  private closeWaiters: (() => void)[] = [];

  constructor(private readonly init: RtzrSessionInit) {
    this.ws = init.ws;
    this.costs = init.costs;
    this.ping = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    }, init.pingIntervalMs);
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('close', (code) => this.onClose(code));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (this.closed || this.eosSent || this.ws.readyState !== WebSocket.OPEN) {
      onSent?.();
      return;
    }
    this.sentBytes += audio.byteLength;
    this.ws.send(audio, BINARY, onSent);
  }

  finalize(): void {
    if (this.closed || this.eosSent || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send('{"type":"Finalize"}');
  }

  end(timeoutMs: number): Promise<EndOutcome> {
    if (this.closed) return Promise.resolve('closed');
    if (!this.eosSent && this.ws.readyState === WebSocket.OPEN) {
      this.eosSent = true;
      this.ws.send('EOS');
    }
    return new Promise<EndOutcome>((resolve) => {
      let outcome: EndOutcome = 'closed';
      const timer = setTimeout(() => {
        this.init.logger.warn('rtzr: no close after EOS within the timeout; terminating', {
          provider: this.init.provider,
          timeoutMs,
        });
        outcome = 'timeout';
        this.terminate();
      }, timeoutMs);
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
  }

  abort(): void {
    this.terminate();
  }

  private terminate(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ping);
    this.ws.terminate();
    this.flushWaiters();
  }

  private flushWaiters(): void {
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }

  private fail(error: SttError): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.terminate();
    this.init.onError(error);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return; // RTZR sends text frames only
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    let result: ProviderResult | undefined;
    try {
      result = parseRtzrFrame(this.init.provider, text, this.sentBytes / this.init.bytesPerMs, this.init.includeRaw);
    } catch (err) {
      this.fail(toSttError(err, this.init.provider));
      return;
    }
    if (result) this.init.onResult(result);
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.ping);
    // After EOS the server closes normally (1000) once it has sent the last finals; anything else
    // (1006: the connection dropped) may have cost finals, so it is a lost connection either way.
    if (!this.eosSent || code !== 1000) {
      this.failed = true;
      this.init.onError(
        new ConnectionError('CONNECTION_LOST', `RTZR connection lost (close code ${code})`, {
          provider: this.init.provider,
        }),
      );
    }
    this.flushWaiters();
  }

  /** `util.inspect()` view: provider, costs, buffer, state; never the socket or options (they hold credentials). */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('RtzrSession', this.toJSON(), depth, options, inspectFn);
  }

  /** `JSON.stringify()` view, as for `util.inspect()`. */
  toJSON(): Record<string, unknown> {
    return sessionView(this.init.provider, this, this.closed);
  }
}
