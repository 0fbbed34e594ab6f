/**
 * Our HTTP honours HTTP_PROXY / HTTPS_PROXY / NO_PROXY (through a real local HTTP CONNECT proxy
 * written with node:http) and keeps its keep-alive pools; a hung request always times out.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FasterWhisperProvider, GoogleProvider, RtzrProvider, StreamingRecognizer, type ConnectRequest } from '../src/index.js';
import {
  startFasterWhisperEmulator,
  startGoogleEmulator,
  startRtzrEmulator,
  type GoogleEmulator,
  type RtzrEmulator,
} from '../src/testing/index.js';
import { timeoutSignal } from '../src/transport/http.js';
import { proxyFor, wsProxyOptions } from '../src/transport/proxy.js';
import { mulaw8k, script, writeCall } from './helpers/sample-call.js';

/** A minimal forward proxy: CONNECT tunnels only (what undici's proxy agent uses for every request). */
interface Proxy {
  url: string;
  /** `host:port` of every CONNECT, in order. */
  connects: string[];
  /** Answer CONNECTs to these hosts with 502 instead of tunnelling (hosts we cannot reach offline). */
  refuse: Set<string>;
  /** Never answer CONNECTs to these `host:port`s. */
  hang: Set<string>;
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const connects: string[] = [];
  const refuse = new Set<string>();
  const hang = new Set<string>();
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.statusCode = 405;
    res.end('CONNECT only');
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const target = req.url ?? '';
    connects.push(target);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    if (hang.has(target)) return;
    if (refuse.has(host)) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    refuse,
    hang,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const PROXY_VARS = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'] as const;
let saved: Partial<Record<(typeof PROXY_VARS)[number], string>> = {};
let proxy: Proxy;
let rtzr: RtzrEmulator;
let google: GoogleEmulator;

beforeAll(async () => {
  proxy = await startProxy();
  rtzr = await startRtzrEmulator({ script });
  google = await startGoogleEmulator({ script });
  saved = {};
  for (const k of PROXY_VARS) {
    if (process.env[k] !== undefined) saved[k] = process.env[k];
    delete process.env[k];
  }
});
afterEach(() => {
  for (const k of PROXY_VARS) delete process.env[k];
  proxy.connects.length = 0;
  proxy.refuse.clear();
  proxy.hang.clear();
});
afterAll(async () => {
  Object.assign(process.env, saved);
  await proxy.close();
  await rtzr.close();
  await google.close();
});

const rtzrProvider = () =>
  new RtzrProvider({
    apiBase: rtzr.apiBase,
    websocketUrl: rtzr.websocketUrl,
    clientId: rtzr.credentials.clientId,
    clientSecret: rtzr.credentials.clientSecret,
  });
const host = (url: string) => new URL(url).host;
/** What a stream passes to provider.connect() (the custom-provider API), for a provider-level check. */
const connectRequest = (): ConnectRequest => ({
  format: { encoding: 'linear16', sampleRate: 8000, channels: 1 },
  language: 'ko-KR',
  interimResults: true,
  signal: new AbortController().signal,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
  onResult: () => {},
  onError: () => {},
});

describe('HTTP_PROXY / HTTPS_PROXY / NO_PROXY', () => {
  it('HTTP_PROXY: the RTZR token request and the WebSocket go through the proxy; the call works as usual', async () => {
    process.env.HTTP_PROXY = proxy.url; // read when the provider is created
    const recognizer = new StreamingRecognizer({ providers: [rtzrProvider()] });
    await recognizer.warmup();
    expect(proxy.connects).toEqual([host(rtzr.apiBase)]);
    expect(rtzr.counters.authRequests).toBeGreaterThan(0);
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(stream, mulaw8k.data);
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(proxy.connects).toEqual([host(rtzr.apiBase), host(rtzr.websocketUrl)]);
    await recognizer.close();
  });

  it('HTTP_PROXY: a Faster-Whisper WebSocket goes through the proxy too', async () => {
    process.env.HTTP_PROXY = proxy.url;
    const fw = await startFasterWhisperEmulator({ script });
    const recognizer = new StreamingRecognizer({ providers: [new FasterWhisperProvider({ url: fw.url })] });
    try {
      const stream = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
      stream.write(new Uint8Array(3200));
      await stream.end();
      expect(proxy.connects).toEqual([host(fw.url)]);
    } finally {
      await recognizer.close();
      await fw.close();
    }
  });

  it('a proxy that refuses the tunnel: CONNECTION_FAILED with its status, for the token request and the WebSocket', async () => {
    process.env.HTTP_PROXY = proxy.url;
    proxy.refuse.add('127.0.0.1');
    const refused = rtzrProvider();
    await expect(refused.warmup()).rejects.toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/502/) });
    await refused.close();
    proxy.refuse.clear();
    const p = rtzrProvider();
    await p.warmup(); // token fetched through the proxy
    proxy.refuse.add('127.0.0.1');
    await expect(p.connect(connectRequest())).rejects.toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/502/) });
    await p.close();
  });

  it('a proxy that never answers the WebSocket CONNECT: the handshake times out (TIMEOUT), nothing left open', async () => {
    process.env.HTTP_PROXY = proxy.url;
    const p = new RtzrProvider({
      apiBase: rtzr.apiBase,
      websocketUrl: rtzr.websocketUrl,
      clientId: rtzr.credentials.clientId,
      clientSecret: rtzr.credentials.clientSecret,
      connectTimeoutMs: 200,
    });
    await p.warmup(); // the token request's tunnel works
    proxy.hang.add(host(rtzr.websocketUrl));
    await expect(p.connect(connectRequest())).rejects.toMatchObject({ code: 'TIMEOUT' });
    await p.close();
  });

  it('wss through the proxy: a CONNECT tunnel with TLS to the target inside it (certificate checked)', async () => {
    const fixtures = new URL('./fixtures/tls/', import.meta.url);
    const cert = readFileSync(new URL('localhost-cert.pem', fixtures));
    const server = https.createServer({ cert, key: readFileSync(new URL('localhost-key.pem', fixtures)) });
    const wss = new WebSocketServer({ server });
    wss.on('connection', (sock) => sock.on('message', (m) => sock.send(`echo ${m.toString()}`)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `wss://127.0.0.1:${(server.address() as net.AddressInfo).port}/v1/transcribe:streaming`;
    process.env.HTTPS_PROXY = proxy.url;
    const ws = new WebSocket(url, { ca: cert, ...wsProxyOptions(url) });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send('hello');
      const reply = await new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
      expect(reply).toBe('echo hello');
      expect(proxy.connects).toEqual([host(url)]);
    } finally {
      ws.terminate();
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('chooses the proxy as undici does: wss → HTTPS_PROXY else HTTP_PROXY, lower case first, NO_PROXY rules', () => {
    const env = { HTTP_PROXY: 'http://p1:8080', HTTPS_PROXY: 'http://p2:8080' };
    expect(proxyFor('ws://a.example/x', env)?.host).toBe('p1:8080');
    expect(proxyFor('wss://a.example/x', env)?.host).toBe('p2:8080');
    expect(proxyFor('wss://a.example/x', { HTTP_PROXY: 'http://p1:8080' })?.host).toBe('p1:8080');
    expect(proxyFor('ws://a.example/x', { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' })?.host).toBe('lower:1');
    expect(proxyFor('ws://a.example/x', {})).toBeUndefined();
    const no = (NO_PROXY: string, url: string) => proxyFor(url, { ...env, NO_PROXY }) === undefined;
    expect(no('*', 'wss://openapi.vito.ai')).toBe(true);
    expect(no('vito.ai', 'wss://openapi.vito.ai')).toBe(true);
    expect(no('.vito.ai', 'wss://openapi.vito.ai')).toBe(true);
    expect(no('*.vito.ai', 'wss://openapi.vito.ai')).toBe(true);
    expect(no('ito.ai', 'wss://openapi.vito.ai')).toBe(false);
    expect(no('openapi.vito.ai:443', 'wss://openapi.vito.ai')).toBe(true);
    expect(no('openapi.vito.ai:8443', 'wss://openapi.vito.ai')).toBe(false);
    expect(no('localhost, 127.0.0.1', 'ws://127.0.0.1:9000')).toBe(true);
  });

  it('lower-case http_proxy works too; Google requests through it reuse their tunnels (keep-alive)', async () => {
    process.env.http_proxy = proxy.url;
    const provider = new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey });
    try {
      const ac = new AbortController();
      const before = google.counters.recognizeRequests;
      for (let i = 0; i < 10; i++) await provider.probe(ac.signal); // ten speech:recognize requests
      expect(google.counters.recognizeRequests - before).toBe(10);
      expect(proxy.connects.length).toBeGreaterThan(0);
      expect(proxy.connects.length).toBeLessThanOrEqual(3); // pooled, not one tunnel per request
      expect(new Set(proxy.connects)).toEqual(new Set([host(google.endpoint)]));
    } finally {
      await provider.close();
    }
  });

  it('HTTPS_PROXY: requests to the real https endpoints are tunnelled to them through the proxy', async () => {
    process.env.HTTPS_PROXY = proxy.url;
    proxy.refuse.add('openapi.vito.ai').add('speech.googleapis.com'); // offline: the proxy cannot reach them
    const r = new RtzrProvider({ clientId: 'id', clientSecret: 'secret' });
    await expect(r.warmup()).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    const g = new GoogleProvider({ apiKey: 'key', retries: 0 });
    await expect(g.probe(new AbortController().signal)).rejects.toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(proxy.connects).toEqual(['openapi.vito.ai:443', 'speech.googleapis.com:443']);
    await r.close();
    await g.close();
  });

  it('NO_PROXY: listed hosts are reached directly, HTTP and WebSocket', async () => {
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    const recognizer = new StreamingRecognizer({ providers: [rtzrProvider()] });
    const summary = await recognizer.recognize(mulaw8k.data, { audio: { encoding: 'mulaw', sampleRate: 8000 } });
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(proxy.connects).toEqual([]);
    await recognizer.close();
  });

  it('without proxy variables nothing goes to the proxy', async () => {
    const p = rtzrProvider();
    await p.warmup();
    expect(proxy.connects).toEqual([]);
    await p.close();
  });
});

describe('keep-alive pools', () => {
  it('a few TCP connections carry many requests of a provider', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ results: [] }));
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const provider = new GoogleProvider({ endpoint: `http://127.0.0.1:${port}`, apiKey: 'k' });
    try {
      const ac = new AbortController();
      for (let i = 0; i < 10; i++) await provider.probe(ac.signal);
      // undici may open a second socket while the first is being released; never one per request
      expect(connections).toBeGreaterThan(0);
      expect(connections).toBeLessThanOrEqual(3);
    } finally {
      await provider.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('timeouts', () => {
  it('a request timeout fires even after a garbage collection (the timeout signal is held while it waits)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let fired = false;
    (() => {
      const signal = AbortSignal.any([new AbortController().signal, timeoutSignal(30)]);
      signal.addEventListener('abort', () => (fired = true), { once: true });
    })();
    gc();
    await new Promise((r) => setTimeout(r, 5));
    gc();
    await expect.poll(() => fired, { timeout: 5000 }).toBe(true);
  });
});
