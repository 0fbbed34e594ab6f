/**
 * A tiny real WebSocket server on 127.0.0.1 that records what a client sends (with receive
 * times) and lets a test script its replies. Used to test `simulateTwilioCall()` on its own.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Received {
  /** Parsed JSON, or the raw text / bytes when not JSON. */
  data: unknown;
  binary: boolean;
  /** performance.now() at receipt. */
  at: number;
}

export interface Connection {
  ws: WebSocket;
  headers: IncomingMessage['headers'];
  messages: Received[];
  closed: Promise<{ code: number }>;
}

export interface RecorderOptions {
  /** Close with 1000 when `stop` arrives. Default true. */
  closeOnStop?: boolean;
  /** Reject the upgrade with this status (when it returns a number). */
  checkUpgrade?: (req: IncomingMessage) => number | undefined;
  /** Called for every message; may reply through `conn.ws`. */
  onMessage?: (conn: Connection, msg: Received) => void;
}

export interface Recorder {
  url: string;
  connections: Connection[];
  upgrades: number;
  /** Resolves with the next connection. */
  nextConnection(): Promise<Connection>;
  close(): Promise<void>;
}

export async function startRecorder(options: RecorderOptions = {}): Promise<Recorder> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const connections: Connection[] = [];
  const waiters: ((c: Connection) => void)[] = [];
  const rec = { upgrades: 0 };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    rec.upgrades++;
    const status = options.checkUpgrade?.(req);
    if (status !== undefined) {
      socket.end(`HTTP/1.1 ${status} Rejected\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn: Connection = {
        ws,
        headers: req.headers,
        messages: [],
        closed: new Promise((resolve) => ws.once('close', (code) => resolve({ code }))),
      };
      ws.on('message', (raw, binary) => {
        const text = Buffer.isBuffer(raw) ? raw : Buffer.concat(raw as Buffer[]);
        let data: unknown = binary ? new Uint8Array(text) : text.toString('utf8');
        if (!binary) {
          try {
            data = JSON.parse(data as string);
          } catch {
            /* keep the text */
          }
        }
        const msg: Received = { data, binary, at: performance.now() };
        conn.messages.push(msg);
        options.onMessage?.(conn, msg);
        if ((options.closeOnStop ?? true) && (data as { event?: string })?.event === 'stop') ws.close(1000);
      });
      connections.push(conn);
      waiters.shift()?.(conn);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/media-stream`,
    connections,
    get upgrades() {
      return rec.upgrades;
    },
    nextConnection: () => new Promise<Connection>((r) => waiters.push(r)),
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
