/**
 * Every error a provider raises is transient (retryable: the stream retries, §8) or permanent, and
 * a 429 carries the server's Retry-After as retryAfterMs. The table is in
 * docs/fallback-and-reliability.md ("Which errors are retried").
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FasterWhisperProvider,
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  WhisperLiveProvider,
  isSttError,
  type ConnectRequest,
  type Provider,
  type StreamSummary,
  type SttError,
} from '../src/index.js';
import { googleHttpError } from '../src/providers/google/recognize.js';
import { rtzrHttpError } from '../src/providers/rtzr/errors.js';
import { parseRtzrFrame } from '../src/providers/rtzr/messages.js';
import { isTransientStatus } from '../src/transport/http-status.js';
import { upgradeError } from '../src/transport/open-websocket.js';
import { parseRetryAfter } from '../src/transport/retry-after.js';
import { startGoogleEmulator, startWhisperLiveEmulator, type GoogleEmulator, type WhisperLiveEmulator } from '../src/testing/index.js';
import { collectingRequest } from './helpers/provider-session.js';
import { script, writeCall } from './helpers/sample-call.js';

describe('Retry-After and HTTP statuses', () => {
  it('reads Retry-After as seconds or an HTTP-date, ms', () => {
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0); // in the past
    expect(parseRetryAfter(['5', '9'], now)).toBe(5000);
    for (const bad of [undefined, '', 'soon', '-3', '1.5', 'Wed, 99 Foo']) expect(parseRetryAfter(bad, now)).toBeUndefined();
    expect(parseRetryAfter('99999999', now)).toBe(86_400_000); // clamped to a day
  });

  it('408, 425, 429 and 5xx are transient, other statuses permanent', () => {
    expect([408, 425, 429, 500, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 422].some(isTransientStatus)).toBe(false);
  });
});

/** [status, code, class, retryable] */
type Row = [number, string, string, boolean];

describe('RTZR', () => {
  it('authenticate failures', () => {
    const rows: Row[] = [
      [400, 'H0001', 'AuthenticationError', false],
      [401, 'H0002', 'AuthenticationError', false],
      [429, 'A0003', 'RateLimitError', true],
      [500, 'E500', 'AuthenticationError', true],
      [503, 'E503', 'AuthenticationError', true],
      [408, '', 'AuthenticationError', true],
      [404, 'H0004', 'ProviderError', false],
    ];
    for (const [status, code, cls, retryable] of rows) {
      const e = rtzrHttpError('rtzr', 'authenticate', status, JSON.stringify({ code, msg: 'x' }), status === 429 ? 3000 : undefined);
      expect([status, e.name, e.retryable]).toEqual([status, cls, retryable]);
      if (code) expect(e.providerCode).toBe(code);
      if (status === 429) expect(e.retryAfterMs).toBe(3000);
    }
  });

  it('handshake failures', () => {
    const rows: Row[] = [
      [400, 'H0001', 'ConfigurationError', false],
      [401, 'H0002', 'AuthenticationError', false], // after the one token refresh
      [403, 'H0003', 'AuthenticationError', false],
      [429, 'A0002', 'RateLimitError', true],
      [500, 'E500', 'ConnectionError', true],
      [503, 'E503', 'ConnectionError', true],
      [404, 'H0004', 'ProviderError', false],
    ];
    for (const [status, code, cls, retryable] of rows) {
      const e = rtzrHttpError('rtzr', 'handshake', status, JSON.stringify({ code, msg: 'x' }));
      expect([status, e.name, e.retryable, e.providerCode]).toEqual([status, cls, retryable, code]);
    }
  });

  it('frames: truncated or malformed is transient; an error frame is transient unless it says it is not', () => {
    const err = (frame: string): SttError => {
      try {
        parseRtzrFrame('rtzr', frame, 0, false);
      } catch (e) {
        if (isSttError(e)) return e;
      }
      throw new Error('no error');
    };
    expect(err('{"seq": 0, "final": tru')).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(err('[1,2]')).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(err('{"seq": 0}')).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(err('{"type":"error","message":"emulated server error"}')).toMatchObject({ code: 'PROVIDER_ERROR', retryable: true });
    expect(err('{"type":"error","message":"busy","retryable":true}')).toMatchObject({ retryable: true });
    expect(err('{"type":"error","message":"bad","retryable":false}')).toMatchObject({ retryable: false });
    expect(err('{"type":"error","code":"H0001","message":"bad param"}')).toMatchObject({ retryable: false, providerCode: 'H0001' });
    expect(err('{"error":{"code":"E500","message":"oops"}}')).toMatchObject({ retryable: true, providerCode: 'E500' });
    expect(err('{"type":"error","code":"A0002","message":"too many"}')).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
  });
});

describe('Google REST', () => {
  it('status mapping', () => {
    const rows: Row[] = [
      [400, 'INVALID_ARGUMENT', 'ConfigurationError', false],
      [401, 'UNAUTHENTICATED', 'AuthenticationError', false],
      [403, 'PERMISSION_DENIED', 'AuthenticationError', false],
      [404, 'NOT_FOUND', 'ConfigurationError', false],
      [429, 'RESOURCE_EXHAUSTED', 'RateLimitError', true],
      [500, 'INTERNAL', 'ProviderError', true],
      [503, 'UNAVAILABLE', 'ProviderError', true],
      [408, 'DEADLINE_EXCEEDED', 'ProviderError', true],
      [409, 'ABORTED', 'ProviderError', false],
    ];
    for (const [status, canonical, cls, retryable] of rows) {
      const e = googleHttpError('google', status, JSON.stringify({ error: { status: canonical, message: 'x' } }), 7000);
      expect([status, e.name, e.retryable, e.providerCode, e.retryAfterMs]).toEqual([status, cls, retryable, canonical, 7000]);
    }
  });
});

describe('WebSocket upgrades (Faster-Whisper, WhisperLive, proxies in front of them)', () => {
  it('status mapping', () => {
    const rows: [number, string, boolean][] = [
      [401, 'AuthenticationError', false],
      [403, 'AuthenticationError', false],
      [429, 'RateLimitError', true],
      [500, 'ConnectionError', true],
      [502, 'ConnectionError', true],
      [408, 'ConnectionError', true],
      [404, 'ConnectionError', false],
    ];
    for (const [status, cls, retryable] of rows) {
      const e = upgradeError('fw', 'Faster-Whisper server', { status, body: '', retryAfterMs: 2000 });
      expect([status, e.name, e.retryable]).toEqual([status, cls, retryable]);
      if (status !== 401 && status !== 403) expect(e.retryAfterMs).toBe(2000);
    }
  });
});

// ───────────────────────── against real servers ─────────────────────────

let server: Server | undefined;
let google: GoogleEmulator | undefined;
let whisperlive: WhisperLiveEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  await recognizer?.close();
  await google?.close();
  await whisperlive?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
  }
  recognizer = undefined;
  google = undefined;
  whisperlive = undefined;
  server = undefined;
});

/** An HTTP server that answers authenticate with a token and rejects every WebSocket upgrade with 429 + Retry-After. */
async function busyServer(retryAfter: string, authStatus = 200): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    if (authStatus !== 200) {
      res.writeHead(authStatus, { 'content-type': 'application/json', 'retry-after': retryAfter });
      res.end(JSON.stringify({ code: 'A0003', msg: 'slow down' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'tok', expire_at: Math.floor(Date.now() / 1000) + 3600 }));
  });
  server.on('upgrade', (_req, socket) => {
    const body = JSON.stringify({ code: 'A0002', msg: 'Too many concurrent requests' });
    socket.end(
      `HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${retryAfter}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const request = (): ConnectRequest => collectingRequest().request;

async function connectError(provider: Provider, format?: ConnectRequest['format']): Promise<SttError> {
  try {
    const session = await provider.connect({ ...request(), ...(format ? { format } : {}) });
    session.abort();
  } catch (e) {
    if (isSttError(e)) return e;
    throw e;
  } finally {
    await provider.close?.();
  }
  throw new Error('connected');
}

describe('429 with Retry-After, over the wire', () => {
  it('a rejected WebSocket upgrade (Faster-Whisper, WhisperLive): RateLimitError with retryAfterMs', async () => {
    const host = await busyServer('7');
    const fw = await connectError(new FasterWhisperProvider({ url: `ws://${host}` }));
    expect(fw).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true, retryAfterMs: 7000 });
    const wl = await connectError(new WhisperLiveProvider({ url: `ws://${host}` }));
    expect(wl).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryAfterMs: 7000 });
  });

  it('RTZR handshake 429 A0002 and authenticate 429: RateLimitError with retryAfterMs (seconds or HTTP-date)', async () => {
    const host = await busyServer('3');
    const rtzr = (base: string) =>
      new RtzrProvider({ apiBase: `http://${base}`, websocketUrl: `ws://${base}`, clientId: 'id', clientSecret: 'secret' });
    const linear16 = { encoding: 'linear16', sampleRate: 16000, channels: 1 } as const;
    expect(await connectError(rtzr(host), linear16)).toMatchObject({ code: 'RATE_LIMITED', providerCode: 'A0002', retryAfterMs: 3000 });
    await new Promise((r) => server!.close(r));
    const date = new Date(Date.now() + 60_000).toUTCString();
    const authHost = await busyServer(date, 429);
    const e = await connectError(rtzr(authHost), linear16);
    expect(e).toMatchObject({ code: 'RATE_LIMITED', status: 429, providerCode: 'A0003' });
    expect(e.retryAfterMs).toBeGreaterThan(55_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('WhisperLive WAIT (server full): RateLimitError whose retryAfterMs is the minutes the server gave', async () => {
    whisperlive = await startWhisperLiveEmulator({ script, maxClients: 1, maxConnectionTimeMs: 120_000 });
    const first = new WhisperLiveProvider({ url: whisperlive.url });
    const busy = await first.connect(request()); // takes the only slot for up to 2 minutes
    const e = await connectError(new WhisperLiveProvider({ url: whisperlive.url }));
    busy.abort();
    expect(e).toMatchObject({ code: 'RATE_LIMITED', retryable: true });
    expect(e.retryAfterMs).toBeGreaterThan(110_000);
    expect(e.retryAfterMs).toBeLessThanOrEqual(120_000);
  });
});

describe('Google: Retry-After and one token refresh', () => {
  async function call(options: ConstructorParameters<typeof GoogleProvider>[0]): Promise<StreamSummary> {
    recognizer = new StreamingRecognizer({ providers: [new GoogleProvider(options)], reconnect: false });
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(stream);
    return stream.end();
  }

  it('a Retry-After longer than a request may take is not waited for: RATE_LIMITED with retryAfterMs', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.failRecognize(429, 1, { retryAfterSec: 120 });
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 });
    expect(summary.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 120_000 });
  });

  it('a short Retry-After is waited for before the retry', async () => {
    google = await startGoogleEmulator({ script });
    google.faults.failRecognize(429, 1, { retryAfterSec: 1 });
    const started = performance.now();
    const summary = await call({ endpoint: google.endpoint, apiKey: google.apiKey, maxConcurrentRequests: 1 });
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1000); // a lower bound: the wait itself
  });

  it('a service-account token rejected with 401 is refreshed once; credentials rejected again are AUTH_FAILED', async () => {
    google = await startGoogleEmulator({ script });
    const provider = { endpoint: google.endpoint, credentials: google.serviceAccount, maxConcurrentRequests: 1 };
    recognizer = new StreamingRecognizer({ providers: [new GoogleProvider(provider)], reconnect: false });
    const warm = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(warm);
    expect((await warm.end()).error).toBeUndefined();
    expect(google.counters.tokenRequests).toBe(1);
    google.faults.revokeTokens(); // the cached token is revoked server-side
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(s);
    const summary = await s.end();
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts).toHaveLength(4); // (the emulator's script runs on across calls)
    expect(google.counters.tokenRequests).toBe(2);
    // an API key has no token to refresh: its 401 stands at once
    const failures = google.counters.failures;
    const bad = await call({ endpoint: google.endpoint, apiKey: 'wrong' });
    expect(bad.error).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(google.counters.failures - failures).toBe(1);
  });
});
