/**
 * WebSocket connections through the proxy variables, with the rules undici's
 * `EnvHttpProxyAgent` applies to our HTTP requests, so both go the same way:
 * `wss:` uses `https_proxy`/`HTTPS_PROXY` (else the HTTP proxy), `ws:` uses
 * `http_proxy`/`HTTP_PROXY` (lower-case first); `no_proxy`/`NO_PROXY` lists
 * hosts reached directly (`*` for all; `host`, `.domain` or `*.domain` also
 * cover subdomains; `host:port` only that port). The socket is an HTTP CONNECT
 * tunnel through an `http:` proxy (user-info in its URL becomes
 * `Proxy-Authorization: Basic`), with TLS to the target inside it for `wss:`.
 * The variables are read when a connection opens.
 * @module
 * @internal
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { ClientOptions } from 'ws';

const DEFAULT_PORTS: Record<string, number> = { 'ws:': 80, 'http:': 80, 'wss:': 443, 'https:': 443 };
/** Bound of the CONNECT exchange when the caller sets no handshake timeout, ms. */
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The proxy to use for `url`, or undefined to connect directly. */
export function proxyFor(url: string, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const secure = target.protocol === 'wss:' || target.protocol === 'https:';
  const httpProxy = env.http_proxy ?? env.HTTP_PROXY;
  const raw = secure ? (env.https_proxy ?? env.HTTPS_PROXY ?? httpProxy) : httpProxy;
  if (!raw) return undefined;
  const hostname = target.host.replace(/:\d*$/, '').toLowerCase();
  const port = Number.parseInt(target.port, 10) || DEFAULT_PORTS[target.protocol] || 0;
  if (bypassed(hostname, port, env.no_proxy ?? env.NO_PROXY ?? '')) return undefined;
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

function bypassed(hostname: string, port: number, noProxy: string): boolean {
  if (noProxy.trim() === '*') return true;
  for (const entry of noProxy.split(/[,\s]/)) {
    if (!entry) continue;
    const parsed = /^(.+):(\d+)$/.exec(entry);
    const host = (parsed ? parsed[1]! : entry).replace(/^\*?\./, '').toLowerCase();
    const entryPort = parsed ? Number.parseInt(parsed[2]!, 10) : 0;
    if (entryPort && entryPort !== port) continue;
    if (hostname === host || hostname.endsWith(`.${host}`)) return true;
  }
  return false;
}

type CreateConnection = (options: http.ClientRequestArgs & tls.ConnectionOptions, done: (err: Error | null, socket?: Socket) => void) => undefined;

/**
 * Options to spread into `new WebSocket(url, options)` (ws): a `createConnection` that tunnels
 * through the proxy the environment names for `url`, or nothing for a direct connection.
 */
export function wsProxyOptions(url: string): Pick<ClientOptions, 'createConnection'> {
  const proxy = proxyFor(url);
  if (!proxy) return {};
  if (proxy.protocol !== 'http:') return {}; // an https: proxy would need TLS to the proxy too; not supported for WebSockets
  const target = new URL(url);
  const secure = target.protocol === 'wss:';
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = Number.parseInt(target.port, 10) || (secure ? 443 : 80);
  const authority = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const headers: Record<string, string> = { host: authority };
  if (proxy.username) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const createConnection: CreateConnection = (options, done) => {
    const connect = http.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: Number.parseInt(proxy.port, 10) || 80,
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      // ws passes its handshake timeout here; the CONNECT must not outlive it (nor hang without one)
      timeout: typeof options.timeout === 'number' && options.timeout > 0 ? options.timeout : DEFAULT_CONNECT_TIMEOUT_MS,
    });
    connect.once('timeout', () => connect.destroy(new Error(`proxy ${proxy.host} timed out answering CONNECT ${authority}`)));
    connect.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new Error(`proxy ${proxy.host} refused CONNECT ${authority}: HTTP ${res.statusCode}`));
        return;
      }
      socket.setTimeout(0); // the tunnel is ws's socket from here, with ws's own timers
      if (head.length > 0) socket.unshift(head);
      if (!secure) {
        done(null, socket);
        return;
      }
      const servername = options.servername ?? (/^[\d.]+$|:/.test(host) ? undefined : host);
      done(null, tls.connect({ ...options, socket, ...(servername ? { servername } : {}) }));
    });
    connect.once('error', (err) => done(new Error(`proxy ${proxy.host}: ${err.message}`, { cause: err })));
    connect.end();
    return undefined;
  };
  // ws hands createConnection to http.request(), which takes the asynchronous form (the socket
  // passed to the callback); @types/ws only declares net.createConnection's synchronous signature.
  return { createConnection: createConnection as unknown as ClientOptions['createConnection'] };
}
