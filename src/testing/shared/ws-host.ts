/**
 * A loopback WebSocket server for emulators: node:http + `ws` in `noServer`
 * mode, so an emulator can delay, reject (HTTP status) or refuse (TCP reset)
 * each upgrade, with a message size limit like Python `websockets`'
 * `max_size` (an oversized message closes the socket with 1009), and one
 * `close()` that releases every socket, timer and the port.
 * @module
 * @internal
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

/** What to do with an upgrade request. `context` of an accept is handed to `onConnection`. */
export type UpgradeDecision =
  | { kind: 'accept'; context?: unknown }
  | { kind: 'refuse' }
  | { kind: 'reject'; status: number; body?: string; headers?: Record<string, string> };

/** @internal */
export interface WsHostOptions {
  host: string;
  /** Port to bind. Default 0: a free port. */
  port?: number;
  /** Largest message accepted, bytes (close 1009 beyond). Default: `ws`'s (100 MiB). */
  maxPayload?: number;
  /** Plain HTTP requests on the same port (REST endpoints of the emulated service). Default: 426. */
  onRequest?(req: IncomingMessage, res: ServerResponse): void;
  /** Decide an upgrade (faults, auth, capacity). Default accept. */
  decide(req: IncomingMessage): UpgradeDecision;
  /** Delay of the 101 response, ms (read when each upgrade arrives). */
  connectDelayMs(): number;
  /** A rejected or refused upgrade. */
  onRejected(): void;
  /** A WebSocket is open; `context` is what the accepting decision carried. */
  onConnection(ws: WebSocket, req: IncomingMessage, context: unknown): void;
}

/** @internal */
export class WsHost {
  /** `ws://host:port`. */
  url = '';
  /** `http://host:port` (same port). */
  httpUrl = '';
  /** Upgrades accepted whose 101 has not been sent yet (held by the connect delay). */
  pendingUpgrades = 0;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly pendingSockets = new Set<Duplex>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closing: Promise<void> | undefined;

  constructor(private readonly o: WsHostOptions) {
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      ...(o.maxPayload !== undefined ? { maxPayload: o.maxPayload } : {}),
    });
    this.server = createServer((req, res) => {
      if (o.onRequest) {
        o.onRequest(req, res);
        return;
      }
      req.resume();
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      res.end('Upgrade Required: this is a WebSocket server\n');
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.o.port ?? 0, this.o.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const { port } = this.server.address() as AddressInfo;
    const h = this.o.host.includes(':') ? `[${this.o.host}]` : this.o.host;
    this.url = `ws://${h}:${port}`;
    this.httpUrl = `http://${h}:${port}`;
  }

  /** Run `fn` after `ms` (at once when 0) unless the host closes first. */
  later(ms: number, fn: () => void): void {
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

  /** Terminate every socket, clear every timer and close the port. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const socket of this.pendingSockets) socket.destroy();
    this.pendingSockets.clear();
    for (const client of this.wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.pendingSockets.add(socket);
    socket.once('close', () => this.pendingSockets.delete(socket));
    const decision = this.o.decide(req);
    if (decision.kind === 'refuse') {
      this.o.onRejected();
      this.pendingSockets.delete(socket);
      socket.destroy();
      return;
    }
    if (decision.kind === 'reject') {
      this.o.onRejected();
      this.pendingSockets.delete(socket);
      rejectUpgrade(socket, decision.status, decision.body ?? `${STATUS_CODES[decision.status] ?? 'Error'}\n`, decision.headers);
      return;
    }
    this.pendingUpgrades++;
    this.later(this.o.connectDelayMs(), () => {
      this.pendingUpgrades--;
      this.pendingSockets.delete(socket);
      if (socket.destroyed || this.closing) {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        if (this.closing) ws.terminate();
        else this.o.onConnection(ws, req, decision.context);
      });
    });
  }
}

/** Write a complete HTTP error response on an upgrade socket, then close it. */
function rejectUpgrade(socket: Duplex, status: number, body: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  socket.once('finish', () => socket.destroy());
  const all: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8' };
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === 'content-type') delete all['Content-Type'];
    all[k] = v;
  }
  const extra = Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      extra +
      '\r\n' +
      body,
  );
}
