/**
 * The RTZR emulator server: a node:http server answering
 * `POST /v1/authenticate` and upgrading `GET /v1/transcribe:streaming` to a
 * WebSocket (`ws` in `noServer` mode), with latency knobs, counters, a
 * connection log and fault injection.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import { ConfigurationError } from '../../errors/index.js';
import { bearerToken, checkAuthRequest, readBody, TokenStore } from './auth.js';
import { FaultState } from './faults.js';
import { WsHost, type UpgradeDecision } from '../shared/ws-host.js';
import { errorBody, sendJson } from './http-util.js';
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

/** What an accepted upgrade carries to its connection. */
interface Accepted {
  query: URLSearchParams;
  config: RtzrStreamConfig;
}

/** An upgrade rejection with RTZR's `{code,msg}` JSON body (and a `Retry-After` when given, seconds). */
function reject(status: number, msg?: string, retryAfterSec?: number): UpgradeDecision {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (retryAfterSec !== undefined) headers['Retry-After'] = String(retryAfterSec);
  return { kind: 'reject', status, body: JSON.stringify(errorBody(status, msg)), headers };
}
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
    rateLimitedConnections: 0,
    peakOpenConnections: 0,
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

  private readonly host: WsHost;
  private readonly tokens = new TokenStore();
  private readonly latency: Required<RtzrLatency>;
  private readonly sessions = new Set<RtzrSession>();
  /** Held (hanging or delayed) authenticate responses. */
  private readonly heldResponses = new Set<ServerResponse>();
  private connectionIds = 0;

  constructor(private readonly options: RtzrEmulatorOptions, hostname: string) {
    this.credentials = { ...(options.credentials ?? DEFAULT_CREDENTIALS) };
    this.latency = { authMs: 0, connectMs: 0, processingMs: 0, partialIntervalMs: 300, ...options.latency };
    this.faults = new FaultState({
      expireTokens: () => this.tokens.expireAll(),
      dropAll: () => {
        for (const s of this.sessions) s.terminate();
      },
    });
    this.host = new WsHost({
      host: hostname,
      ...(options.port !== undefined ? { port: options.port } : {}),
      onRequest: (req, res) => this.onRequest(req, res),
      decide: (req) => this.decide(req),
      connectDelayMs: () => this.latency.connectMs,
      onRejected: () => this.counters.rejectedConnections++,
      onConnection: (ws, req, context) => this.onConnection(ws, req, context as Accepted),
    });
  }

  async listen(): Promise<void> {
    await this.host.listen();
    this.apiBase = this.host.httpUrl;
    this.websocketUrl = this.host.url;
  }

  setLatency(latency: Partial<RtzrLatency>): void {
    checkLatency(latency);
    for (const [key, value] of Object.entries(latency) as Array<[keyof RtzrLatency, number | undefined]>) {
      if (value !== undefined) this.latency[key] = value;
    }
  }

  async close(): Promise<void> {
    for (const res of this.heldResponses) res.destroy();
    this.heldResponses.clear();
    for (const s of this.sessions) s.terminate();
    await this.host.close();
    this.tokens.clear();
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
      (body) => this.host.later(this.latency.authMs, () => this.answerAuth(req, res, body, fault?.status)),
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

  /** Validate an upgrade the way RTZR does: path, injected faults, Bearer token, parameters, capacity. */
  private decide(req: IncomingMessage): UpgradeDecision {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== STREAMING_PATH) return reject(404);
    const fault = this.faults.takeUpgradeFault();
    if (fault?.kind === 'refuse') return { kind: 'refuse' };
    if (fault?.kind === 'reject') return this.rejectWith(fault.status, fault.retryAfterSec);
    const token = bearerToken(req.headers.authorization);
    if (token === undefined) return reject(401, 'missing Authorization: Bearer token');
    if (!this.tokens.isValid(token)) return reject(401, 'invalid or expired token');
    const params = parseStreamingParams(url.searchParams);
    if (!params.ok) return reject(400, params.msg);
    if (this.counters.openConnections + this.host.pendingUpgrades >= (this.options.maxConcurrent ?? 20)) return this.rejectWith(429);
    const accepted: Accepted = { query: url.searchParams, config: params.config };
    return { kind: 'accept', context: accepted };
  }

  private rejectWith(status: number, retryAfterSec?: number): UpgradeDecision {
    if (status === 429) this.counters.rateLimitedConnections++;
    return reject(status, undefined, retryAfterSec);
  }

  private onConnection(ws: WebSocket, req: IncomingMessage, { query, config }: Accepted): void {
    const id = ++this.connectionIds;
    this.counters.connections++;
    this.counters.openConnections++;
    this.counters.peakOpenConnections = Math.max(this.counters.peakOpenConnections, this.counters.openConnections);
    const log: RtzrConnectionLogEntry = { id, query: Object.fromEntries(query), openedAt: Date.now(), audioMs: 0 };
    this.connectionsLog.push(log);
    if (this.connectionsLog.length > LOG_LIMIT) this.connectionsLog.splice(0, this.connectionsLog.length - LOG_LIMIT);
    const script = this.options.scriptFor?.({ connectionId: id, query, headers: req.headers }) ?? this.options.script ?? [];
    const session = new RtzrSession(ws, {
      id,
      config,
      script,
      latency: this.latency,
      wordTimes: this.options.wordTimes ?? 'utterance',
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
 * @throws {@link streaming-stt!ConfigurationError} for invalid options.
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
  if (options.wordTimes !== undefined && options.wordTimes !== 'utterance' && options.wordTimes !== 'connection') {
    throw new ConfigurationError(`RTZR emulator: wordTimes must be 'utterance' or 'connection', got ${String(options.wordTimes)}`);
  }
  if (options.port !== undefined && !(Number.isInteger(options.port) && options.port >= 0 && options.port < 65536)) {
    throw new ConfigurationError(`RTZR emulator: port must be an integer in 0..65535, got ${String(options.port)}`);
  }
  if (credentials && (!credentials.clientId || !credentials.clientSecret)) {
    throw new ConfigurationError('RTZR emulator: credentials need a clientId and a clientSecret');
  }
  const emulator = new RtzrEmulatorServer(options, options.host ?? '127.0.0.1');
  await emulator.listen();
  return emulator;
}
