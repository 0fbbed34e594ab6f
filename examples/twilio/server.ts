/**
 * Twilio Media Streams → streaming-stt: live transcripts of phone calls.
 *
 *   npx tsx examples/twilio/server.ts
 *
 * - `POST /twiml`: Twilio's voice webhook. Answers `<Connect><Stream url="wss://PUBLIC_URL/media-stream">`
 *   with the caller's From/To as `<Parameter>`s.
 * - `GET /media-stream` (WebSocket): Twilio's media stream. One recognition stream per call
 *   (`streamSid`), audio written as it arrives, partials and finals logged with the callSid and
 *   latency, `stop` ends the stream and logs the call summary; a socket closed without `stop`
 *   aborts it.
 * - With TWILIO_AUTH_TOKEN set, `X-Twilio-Signature` is checked on the webhook and on the
 *   WebSocket handshake (official `twilio` package): invalid or missing → 403, and the recognizer
 *   never sees the request.
 * - BARGE_IN=1 sends Twilio a `clear` when the caller starts speaking, so a bot stops talking.
 * - SIGINT/SIGTERM: open calls are ended (their last finals still arrive), then the process exits.
 *
 * Environment: PORT (8080), HOST (0.0.0.0), PUBLIC_URL (https://your-tunnel.example), TWILIO_AUTH_TOKEN,
 * BARGE_IN, LOG_LEVEL (info), LOG_FORMAT (pretty | json), RTZR_CLIENT_ID / RTZR_CLIENT_SECRET (without
 * them, the built-in RTZR emulator is started so the example runs offline). See README.md here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { EventEmitter } from 'eventemitter3';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  ConfigurationError,
  RtzrProvider,
  StreamingRecognizer,
  type Logger,
  type Provider,
  type Transcript,
} from 'streaming-stt';
import { TwilioCall, type CallRecord } from './call.js';
import { createConsoleLogger } from './log.js';
import {
  buildTwiml,
  formParams,
  HttpError,
  isValidSignature,
  MEDIA_STREAM_PATH,
  originFromRequest,
  parsePublicUrl,
  readForm,
  sendText,
  WEBHOOK_PATH,
  type PublicOrigin,
} from './webhook.js';

export type { CallRecord } from './call.js';

/** Options of {@link startTwilioServer}. */
export interface TwilioServerOptions {
  /** A recognizer to share (one per process). Not closed by `close()`. */
  recognizer?: StreamingRecognizer;
  /** Providers for a recognizer the server creates and closes. Default: `[new RtzrProvider()]` (RTZR_* env). */
  providers?: Provider[];
  /** Language of the streams. Default 'ko-KR'. */
  language?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Interface to bind. Default '0.0.0.0'. */
  host?: string;
  /**
   * Public origin Twilio reaches the server at (a tunnel such as https://abc.ngrok.app). Used for the
   * stream URL in the TwiML and, with `authToken`, for signature validation. Required with `authToken`.
   */
  publicUrl?: string;
  /** Twilio Auth Token: enables `X-Twilio-Signature` validation on the webhook and the WebSocket handshake. */
  authToken?: string;
  /** Send `clear` to Twilio when the caller starts speaking (barge-in). Default false. */
  bargeIn?: boolean;
  /** Default: the example's console logger. */
  logger?: Logger;
  /** Calls at once; one more is refused with 503. Default 100. */
  maxCalls?: number;
  /** `close()` waits this long for open calls to end before aborting them, ms. Default 10000. */
  drainTimeoutMs?: number;
  /** A connection that sends no `start` within this time is closed, ms. Default 10000. */
  startTimeoutMs?: number;
  /** Per-call `<Parameter>`s for the TwiML from the webhook's form fields. Default: `from` and `to`. */
  streamParameters?: (form: URLSearchParams) => Record<string, string>;
}

/** Counters of a running server. */
export interface TwilioServerStats {
  webhooks: number;
  webhooksRejected: number;
  handshakesRejected: number;
  callsStarted: number;
  callsActive: number;
  callsEnded: number;
  clearsSent: number;
}

/** Events of a running server (for tests, dashboards, or your own bot logic). */
export interface TwilioServerEvents {
  'call-start': (info: { callSid: string; streamSid: string; customParameters: Record<string, string> }) => void;
  'call-open': (info: { callSid: string; streamSid: string; provider: string }) => void;
  partial: (info: { callSid: string; streamSid: string; transcript: Transcript }) => void;
  final: (info: { callSid: string; streamSid: string; transcript: Transcript }) => void;
  clear: (info: { callSid: string; streamSid: string; utteranceId: number }) => void;
  'call-end': (record: CallRecord) => void;
}

/** A running server. */
export interface TwilioServer extends EventEmitter<TwilioServerEvents> {
  /** Local base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** Local media-stream URL, e.g. `ws://127.0.0.1:8080/media-stream`. */
  readonly mediaStreamUrl: string;
  readonly port: number;
  /** The stream URL the TwiML points at when PUBLIC_URL is set (else derived per request). */
  readonly publicStreamUrl: string | undefined;
  readonly recognizer: StreamingRecognizer;
  readonly stats: Readonly<TwilioServerStats>;
  /** The last 100 ended calls, oldest first. */
  readonly recentCalls: readonly CallRecord[];
  /** Calls connected now. */
  activeCalls(): { callSid: string; streamSid: string; state: string; mediaFrames: number }[];
  /** Stop accepting, end every open call (bounded by `drainTimeoutMs`), close sockets, close an owned recognizer. */
  close(): Promise<void>;
}

const RECENT_LIMIT = 100;

class Server_ extends EventEmitter<TwilioServerEvents> implements TwilioServer {
  url = '';
  mediaStreamUrl = '';
  port = 0;
  readonly publicStreamUrl: string | undefined;
  readonly recognizer: StreamingRecognizer;
  readonly stats: TwilioServerStats = {
    webhooks: 0,
    webhooksRejected: 0,
    handshakesRejected: 0,
    callsStarted: 0,
    callsActive: 0,
    callsEnded: 0,
    clearsSent: 0,
  };
  readonly recentCalls: CallRecord[] = [];

  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, perMessageDeflate: false });
  private readonly calls = new Set<TwilioCall>();
  private readonly ownsRecognizer: boolean;
  private readonly logger: Logger;
  private readonly origin: PublicOrigin | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly o: TwilioServerOptions) {
    super();
    this.logger = o.logger ?? createConsoleLogger();
    this.origin = o.publicUrl ? parsePublicUrl(o.publicUrl) : undefined;
    if (o.authToken !== undefined && o.authToken === '') throw new ConfigurationError('authToken must not be empty');
    if (o.authToken && !this.origin) {
      throw new ConfigurationError(
        'PUBLIC_URL is required with TWILIO_AUTH_TOKEN: signatures are computed over the public URL Twilio calls',
      );
    }
    this.publicStreamUrl = this.origin ? this.origin.ws + MEDIA_STREAM_PATH : undefined;
    if (o.recognizer) {
      this.recognizer = o.recognizer;
      this.ownsRecognizer = false;
    } else {
      this.recognizer = new StreamingRecognizer({
        providers: o.providers ?? [new RtzrProvider()],
        language: o.language ?? 'ko-KR',
        logger: this.logger,
      });
      this.ownsRecognizer = true;
    }
    this.http = createServer((req, res) => void this.onRequest(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  async listen(): Promise<void> {
    const host = this.o.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.o.port ?? 8080, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.port = (this.http.address() as AddressInfo).port;
    const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.url = `http://${local}:${this.port}`;
    this.mediaStreamUrl = `ws://${local}:${this.port}${MEDIA_STREAM_PATH}`;
  }

  activeCalls(): { callSid: string; streamSid: string; state: string; mediaFrames: number }[] {
    return [...this.calls].map((c) => c.info);
  }

  // ── HTTP: the voice webhook ───────────────────────────────────────────────────────────────

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/health' && req.method === 'GET') {
      sendText(res, 200, JSON.stringify({ ok: !this.closing, calls: this.calls.size }), 'application/json');
      return;
    }
    if (path !== WEBHOOK_PATH) {
      req.resume();
      sendText(res, 404, 'not found');
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      sendText(res, 405, 'use POST');
      return;
    }
    if (this.closing) {
      req.resume();
      sendText(res, 503, 'shutting down');
      return;
    }
    this.stats.webhooks++;
    try {
      const form = await readForm(req);
      if (this.o.authToken) {
        const url = this.origin!.http + (req.url ?? WEBHOOK_PATH);
        if (!isValidSignature(this.o.authToken, req.headers['x-twilio-signature'], url, formParams(form))) {
          this.stats.webhooksRejected++;
          this.logger.warn(`webhook rejected: ${req.headers['x-twilio-signature'] ? 'invalid' : 'missing'} X-Twilio-Signature`);
          sendText(res, 403, 'invalid Twilio signature');
          return;
        }
      }
      const origin = this.origin ?? originFromRequest(req);
      const params = this.o.streamParameters ? this.o.streamParameters(form) : defaultParameters(form);
      sendText(res, 200, buildTwiml(origin.ws + MEDIA_STREAM_PATH, params), 'text/xml');
      this.logger.info(`webhook: incoming call ${form.get('CallSid') ?? '(no CallSid)'}: answered with <Connect><Stream>`, {
        callSid: form.get('CallSid') ?? undefined,
      });
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) this.logger.error(`webhook failed: ${(err as Error).message}`);
      if (!res.headersSent && !res.destroyed) sendText(res, status, status === 500 ? 'internal error' : (err as Error).message);
    }
  }

  // ── WebSocket: the media stream ──────────────────────────────────────────────────────────

  private reject(socket: Duplex, status: number, text: string): void {
    const body = `${text}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 404 ? 'Not Found' : 'Service Unavailable'}\r\n` +
        `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== MEDIA_STREAM_PATH) return this.reject(socket, 404, 'not found');
    if (this.closing) return this.reject(socket, 503, 'shutting down');
    if (this.o.authToken) {
      // Twilio signs the wss:// URL of the <Stream> (no POST params): validate against the public one.
      const url = this.origin!.ws + (req.url ?? MEDIA_STREAM_PATH);
      if (!isValidSignature(this.o.authToken, req.headers['x-twilio-signature'], url, {})) {
        this.stats.handshakesRejected++;
        this.logger.warn(`media stream rejected: ${req.headers['x-twilio-signature'] ? 'invalid' : 'missing'} X-Twilio-Signature`);
        return this.reject(socket, 403, 'invalid Twilio signature');
      }
    }
    if (this.calls.size >= (this.o.maxCalls ?? 100)) {
      this.logger.warn(`media stream refused: ${this.calls.size} calls already open (maxCalls)`);
      return this.reject(socket, 503, 'too many calls');
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws));
  }

  private onConnection(ws: WebSocket): void {
    if (this.closing) {
      ws.close(1001, 'server shutting down');
      return;
    }
    const call = new TwilioCall(ws, {
      recognizer: this.recognizer,
      logger: this.logger,
      bargeIn: this.o.bargeIn ?? false,
      startTimeoutMs: this.o.startTimeoutMs ?? 10_000,
      events: {
        start: (info) => {
          this.stats.callsStarted++;
          this.stats.callsActive++;
          this.emit('call-start', info);
        },
        open: (info) => this.emit('call-open', info),
        partial: (info) => this.emit('partial', info),
        final: (info) => this.emit('final', info),
        clear: (info) => {
          this.stats.clearsSent++;
          this.emit('clear', info);
        },
        end: (record) => {
          if (record.streamSid) this.stats.callsActive--;
          this.stats.callsEnded++;
          this.recentCalls.push(record);
          if (this.recentCalls.length > RECENT_LIMIT) this.recentCalls.shift();
          this.emit('call-end', record);
        },
      },
    });
    this.calls.add(call);
    void call.finished.then(() => this.calls.delete(call));
  }

  // ── shutdown ──────────────────────────────────────────────────────────────────────────────

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeIdleConnections();
    const open = [...this.calls];
    if (open.length > 0) this.logger.info(`shutting down: ending ${open.length} open call(s)`);
    await Promise.all(open.map((c) => c.drain(this.o.drainTimeoutMs ?? 10_000)));
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.http.closeAllConnections();
    await stopped;
    if (this.ownsRecognizer) await this.recognizer.close();
    this.removeAllListeners();
  }
}

function defaultParameters(form: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  const from = form.get('From');
  const to = form.get('To');
  if (from) out.from = from;
  if (to) out.to = to;
  return out;
}

/**
 * Start the Twilio Media Streams server.
 * @throws ConfigurationError for an invalid PUBLIC_URL, an auth token without PUBLIC_URL, or
 * missing RTZR credentials (when no recognizer/providers are given).
 */
export async function startTwilioServer(options: TwilioServerOptions = {}): Promise<TwilioServer> {
  const server = new Server_(options);
  try {
    await server.listen();
  } catch (err) {
    await server.close();
    throw err;
  }
  return server;
}

// ── run directly: npx tsx examples/twilio/server.ts ─────────────────────────────────────────

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { main } = await import('./main.js');
  await main(startTwilioServer);
}
