/**
 * The RTZR emulator server: a node:http server answering
 * `POST /v1/authenticate` and upgrading `GET /v1/transcribe:streaming` to a
 * WebSocket (`ws` in `noServer` mode), with latency knobs, counters, a
 * connection log and fault injection.
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ConfigurationError } from '../../errors/index.js';
import { bearerToken, checkAuthRequest, readBody, TokenStore } from './auth.js';
import { FaultState } from './faults.js';
import { errorBody, rejectUpgrade, sendJson } from './http-util.js';
import { parseStreamingParams, type RtzrStreamConfig } from './params.js';
import { RtzrSession } from './session.js';
import type {
  RtzrConnectionLogEntry,
  RtzrCredentials,
  RtzrEmulator,
  RtzrEmulatorCounters,
  RtzrEmulatorOptions,
  RtzrLatency,
} from './types.js';

const AUTH_PATH = '/v1/authenticate';
const STREAMING_PATH = '/v1/transcribe:streaming';
const LOG_LIMIT = 1000;
const DEFAULT_CREDENTIALS: RtzrCredentials = { clientId: 'emulator-client-id', clientSecret: 'emulator-client-secret' };

function checkLatency(latency: Partial<RtzrLatency>): void {
  for (const [key, value] of Object.entries(latency)) {
    if (value === undefined) continue;
    const min = key === 'partialIntervalMs' ? 1 : 0;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new ConfigurationError(`RTZR emulator: latency.${key} must be a number >= ${min}, got ${String(value)}`);
    }
  }
}

function newCounters(): RtzrEmulatorCounters {
  return {
    authRequests: 0,
    authFailures: 0,
    tokensIssued: 0,
    connections: 0,
    openConnections: 0,
    rejectedConnections: 0,
    audioBytes: 0,
    framesReceived: 0,
    messagesSent: 0,
    finalsSent: 0,
  };
}

class RtzrEmulatorServer implements RtzrEmulator {
  apiBase = '';
  websocketUrl = '';
  readonly credentials: RtzrCredentials;
  readonly counters = newCounters();
  readonly faults: FaultState;
  readonly connectionsLog: RtzrConnectionLogEntry[] = [];

  private readonly server: Server;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly tokens = new TokenStore();
  private readonly latency: Required<RtzrLatency>;
  private readonly sessions = new Set<RtzrSession>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Upgrade sockets not yet handed to `ws`, and held (hanging or delayed) auth responses. */
  private readonly pendingSockets = new Set<Duplex>();
  private readonly heldResponses = new Set<ServerResponse>();
  private pendingUpgrades = 0;
  private connectionIds = 0;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: RtzrEmulatorOptions) {
    this.credentials = { ...(options.credentials ?? DEFAULT_CREDENTIALS) };
    this.latency = { authMs: 0, connectMs: 0, processingMs: 0, partialIntervalMs: 300, ...options.latency };
    this.faults = new FaultState({
      expireTokens: () => this.tokens.expireAll(),
      dropAll: () => {
        for (const s of this.sessions) s.terminate();
      },
    });
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  async listen(host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    const h = host.includes(':') ? `[${host}]` : host;
    this.apiBase = `http://${h}:${port}`;
    this.websocketUrl = `ws://${h}:${port}`;
  }

  setLatency(latency: Partial<RtzrLatency>): void {
    checkLatency(latency);
    for (const [key, value] of Object.entries(latency) as Array<[keyof RtzrLatency, number | undefined]>) {
      if (value !== undefined) this.latency[key] = value;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sessions) s.terminate();
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();
    for (const res of this.heldResponses) res.destroy();
    this.heldResponses.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.tokens.clear();
  }

  /** Run `fn` after `ms` (at once when 0), unless the emulator closes first. */
  private later(ms: number, fn: () => void): void {
    if (ms <= 0) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  // ---- REST ----------------------------------------------------------------

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'POST' || path !== AUTH_PATH) {
      req.resume();
      sendJson(res, 404, errorBody(404));
      return;
    }
    this.counters.authRequests++;
    const fault = this.faults.takeAuthFault();
    this.heldResponses.add(res);
    res.on('close', () => this.heldResponses.delete(res));
    if (fault?.kind === 'hang') {
      req.resume();
      return; // answered never; destroyed on close()
    }
    readBody(req).then(
      (body) => this.later(this.latency.authMs, () => this.answerAuth(req, res, body, fault?.status)),
      () => {
        this.counters.authFailures++;
        if (!res.headersSent && !res.destroyed) sendJson(res, 400, errorBody(400, 'unreadable body'));
      },
    );
  }

  private answerAuth(req: IncomingMessage, res: ServerResponse, body: string, injected?: 400 | 401 | 500): void {
    if (res.destroyed || res.headersSent) return;
    if (injected !== undefined) {
      this.counters.authFailures++;
      sendJson(res, injected, errorBody(injected, injected === 401 ? 'invalid credential' : undefined));
      return;
    }
    const check = checkAuthRequest(req.headers['content-type'], body, this.credentials);
    if (!check.ok) {
      this.counters.authFailures++;
      sendJson(res, check.status, check.body);
      return;
    }
    this.counters.tokensIssued++;
    sendJson(res, 200, this.tokens.issue(this.options.tokenLifetimeSec ?? 21600, check.clientId));
  }

  // ---- WebSocket -------------------------------------------------------------

  private reject(socket: Duplex, status: number, msg?: string): void {
    this.counters.rejectedConnections++;
    this.pendingSockets.delete(socket);
    rejectUpgrade(socket, status, errorBody(status, msg));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.pendingSockets.add(socket);
    socket.once('close', () => this.pendingSockets.delete(socket));
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== STREAMING_PATH) {
      this.reject(socket, 404);
      return;
    }
    const fault = this.faults.takeUpgradeFault();
    if (fault?.kind === 'refuse') {
      this.counters.rejectedConnections++;
      this.pendingSockets.delete(socket);
      socket.destroy();
      return;
    }
    if (fault?.kind === 'reject') {
      this.reject(socket, fault.status);
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) {
      this.reject(socket, 401, 'missing Authorization: Bearer token');
      return;
    }
    if (!this.tokens.isValid(token)) {
      this.reject(socket, 401, 'invalid or expired token');
      return;
    }
    const params = parseStreamingParams(url.searchParams);
    if (!params.ok) {
      this.reject(socket, 400, params.msg);
      return;
    }
    if (this.counters.openConnections + this.pendingUpgrades >= (this.options.maxConcurrent ?? 20)) {
      this.reject(socket, 429);
      return;
    }
    this.pendingUpgrades++;
    this.later(this.latency.connectMs, () => {
      this.pendingUpgrades--;
      this.pendingSockets.delete(socket);
      if (socket.destroyed || this.closing) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req, url.searchParams, params.config));
    });
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, query: URLSearchParams, config: RtzrStreamConfig): void {
    if (this.closing) {
      ws.terminate();
      return;
    }
    const id = ++this.connectionIds;
    this.counters.connections++;
    this.counters.openConnections++;
    const log: RtzrConnectionLogEntry = { id, query: Object.fromEntries(query), openedAt: Date.now(), audioMs: 0 };
    this.connectionsLog.push(log);
    if (this.connectionsLog.length > LOG_LIMIT) this.connectionsLog.splice(0, this.connectionsLog.length - LOG_LIMIT);
    const script = this.options.scriptFor?.({ connectionId: id, query, headers: req.headers }) ?? this.options.script ?? [];
    const session = new RtzrSession(ws, {
      id,
      config,
      script,
      latency: this.latency,
      faults: this.faults,
      counters: this.counters,
      log,
      onClosed: (s) => {
        this.sessions.delete(s);
        this.counters.openConnections--;
      },
    });
    this.sessions.add(session);
  }
}

/**
 * Start an RTZR (VITO) streaming STT emulator on 127.0.0.1 (random port).
 *
 * @example
 * ```ts
 * const emu = await startRtzrEmulator({ script: ['안녕하세요', '네 감사합니다'] });
 * // POST `${emu.apiBase}/v1/authenticate`, then connect to
 * // `${emu.websocketUrl}/v1/transcribe:streaming?sample_rate=8000&encoding=MULAW`
 * await emu.close();
 * ```
 * @throws {@link ConfigurationError} for invalid options.
 */
export async function startRtzrEmulator(options: RtzrEmulatorOptions = {}): Promise<RtzrEmulator> {
  if (options.latency) checkLatency(options.latency);
  const { tokenLifetimeSec, maxConcurrent, credentials } = options;
  if (tokenLifetimeSec !== undefined && !(Number.isFinite(tokenLifetimeSec) && tokenLifetimeSec > 0)) {
    throw new ConfigurationError(`RTZR emulator: tokenLifetimeSec must be > 0, got ${String(tokenLifetimeSec)}`);
  }
  if (maxConcurrent !== undefined && !(Number.isInteger(maxConcurrent) && maxConcurrent >= 0)) {
    throw new ConfigurationError(`RTZR emulator: maxConcurrent must be an integer >= 0, got ${String(maxConcurrent)}`);
  }
  if (credentials && (!credentials.clientId || !credentials.clientSecret)) {
    throw new ConfigurationError('RTZR emulator: credentials need a clientId and a clientSecret');
  }
  const emulator = new RtzrEmulatorServer(options);
  await emulator.listen(options.host ?? '127.0.0.1');
  return emulator;
}
