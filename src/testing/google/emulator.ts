/**
 * `startGoogleEmulator()`: a real HTTP server on 127.0.0.1 speaking Google
 * Speech-to-Text REST v1 `speech:recognize` and the OAuth2 token endpoint.
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigurationError } from '../../errors/index.js';
import { ScriptCursor } from '../script-cursor.js';
import { verifyAssertion } from './jwt.js';
import { InvalidArgument, parseRecognizeBody, recognize } from './recognition.js';
import type {
  GoogleEmulator,
  GoogleEmulatorCounters,
  GoogleEmulatorOptions,
  GoogleFaultStatus,
  GoogleFaults,
} from './types.js';

const CANONICAL: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};
const MAX_BODY = 12 * 1024 * 1024;

function sendError(res: ServerResponse, status: number, message: string, retryAfterSec?: number): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(retryAfterSec === undefined ? {} : { 'retry-after': String(retryAfterSec) }) });
  res.end(JSON.stringify({ error: { code: status, message, status: CANONICAL[status] ?? 'UNKNOWN' } }));
}

class Faults implements GoogleFaults {
  fail: { status: GoogleFaultStatus; times: number; retryAfterSec?: number } | undefined;
  hang = 0;
  drop = 0;
  token = 0;
  constructor(private readonly onRevoke: () => void) {}
  failRecognize(status: GoogleFaultStatus, times = 1, options: { retryAfterSec?: number } = {}): void {
    this.fail = { status, times, ...(options.retryAfterSec === undefined ? {} : { retryAfterSec: options.retryAfterSec }) };
  }
  revokeTokens(): void {
    this.onRevoke();
  }
  hangRecognize(times = 1): void {
    this.hang += times;
  }
  dropRecognize(times = 1): void {
    this.drop += times;
  }
  failToken(times = 1): void {
    this.token += times;
  }
  reset(): void {
    this.fail = undefined;
    this.hang = this.drop = this.token = 0;
  }
}

/**
 * Start a Google Speech-to-Text emulator.
 *
 * @example
 * ```ts
 * const google = await startGoogleEmulator({ script: ['안녕하세요'] });
 * const provider = new GoogleProvider({ endpoint: google.endpoint, apiKey: google.apiKey });
 * ```
 */
export async function startGoogleEmulator(options: GoogleEmulatorOptions = {}): Promise<GoogleEmulator> {
  const apiKey = options.apiKey ?? 'emulator-api-key';
  const lifetime = options.tokenLifetimeSec ?? 3600;
  const latency = { processingMs: options.latency?.processingMs ?? 0, authMs: options.latency?.authMs ?? 0 };
  const cursor = options.script instanceof ScriptCursor ? options.script : new ScriptCursor(options.script ?? []);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = 'emulator@streaming-stt.iam.gserviceaccount.com';
  const tokens = new Map<string, number>();
  const counters: GoogleEmulatorCounters = { recognizeRequests: 0, recognized: 0, failures: 0, tokenRequests: 0, audioBytes: 0, inFlight: 0, maxInFlight: 0 };
  const faults = new Faults(() => tokens.clear());
  const requests: Record<string, unknown>[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const hung = new Set<ServerResponse>();
  let tokenUri = '';
  /** Script lines handed to requests whose replies are not sent yet, per cursor. */
  const reserved = new Map<ScriptCursor, number>();
  const cursorsOf = new WeakMap<readonly string[], ScriptCursor>();
  const cursorFor = (req: IncomingMessage, languageCode: string): ScriptCursor => {
    const chosen = options.scriptFor?.({ languageCode, headers: req.headers });
    if (chosen === undefined) return cursor;
    if (chosen instanceof ScriptCursor) return chosen;
    let c = cursorsOf.get(chosen);
    if (!c) cursorsOf.set(chosen, (c = new ScriptCursor(chosen)));
    return c;
  };

  const later = (ms: number, fn: () => void): void => {
    if (ms <= 0) return fn();
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const readBody = (req: IncomingMessage): Promise<string | undefined> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY) chunks.push(c);
      });
      req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
      req.on('error', () => resolve(undefined));
    });

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (req.headers['x-goog-api-key'] === apiKey || url.searchParams.get('key') === apiKey) return true;
    const m = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '');
    const exp = m ? tokens.get(m[1]!) : undefined;
    return exp !== undefined && exp > Date.now();
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/token') {
        counters.tokenRequests++;
        const body = new URLSearchParams((await readBody(req)) ?? '');
        later(latency.authMs, () => {
          if (faults.token > 0) {
            faults.token--;
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'emulated failure' }));
            return;
          }
          const ok =
            body.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
            verifyAssertion(body.get('assertion') ?? '', publicKey, tokenUri, email);
          if (!ok) {
            res.writeHead(400, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid JWT Signature.' }));
            return;
          }
          const token = `ya29.emulator-${randomBytes(12).toString('hex')}`;
          tokens.set(token, Date.now() + lifetime * 1000);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ access_token: token, expires_in: lifetime, token_type: 'Bearer' }));
        });
        return;
      }
      if (req.method !== 'POST' || url.pathname !== '/v1/speech:recognize') {
        sendError(res, 404, `No route for ${req.method} ${url.pathname}`);
        return;
      }
      counters.recognizeRequests++;
      counters.inFlight++;
      counters.maxInFlight = Math.max(counters.maxInFlight, counters.inFlight);
      res.on('close', () => counters.inFlight--);
      const text = await readBody(req);
      if (faults.drop > 0) {
        faults.drop--;
        counters.failures++;
        req.socket.destroy();
        return;
      }
      if (faults.hang > 0) {
        faults.hang--;
        hung.add(res);
        return;
      }
      if (!authorized(req, url)) {
        counters.failures++;
        sendError(res, 401, 'Request had invalid authentication credentials.');
        return;
      }
      if (faults.fail && faults.fail.times > 0) {
        const { status, retryAfterSec } = faults.fail;
        if (--faults.fail.times === 0) faults.fail = undefined;
        counters.failures++;
        sendError(res, status, `emulated ${CANONICAL[status] ?? 'error'}`, retryAfterSec);
        return;
      }
      if (text === undefined) {
        counters.failures++;
        sendError(res, 400, 'Request payload size exceeds the limit.');
        return;
      }
      let parsed;
      try {
        parsed = parseRecognizeBody(text);
      } catch (err) {
        counters.failures++;
        sendError(res, 400, err instanceof InvalidArgument ? err.message : 'Invalid request.');
        return;
      }
      counters.audioBytes += parsed.audio.byteLength;
      requests.push(parsed.config);
      if (requests.length > 100) requests.shift();
      const script = cursorFor(req, parsed.languageCode);
      const { body, lines } = recognize(parsed, script, reserved.get(script) ?? 0);
      reserved.set(script, (reserved.get(script) ?? 0) + lines);
      later(latency.processingMs, () => {
        const left = (reserved.get(script) ?? lines) - lines;
        if (left > 0) reserved.set(script, left);
        else reserved.delete(script);
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
        for (let i = 0; i < lines; i++) script.commit();
        if (lines > 0) counters.recognized++;
      });
    })();
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new ConfigurationError('emulator could not bind');
  const endpoint = `http://${options.host ?? '127.0.0.1'}:${addr.port}`;
  tokenUri = `${endpoint}/token`;
  let closed = false;
  return {
    endpoint,
    apiKey,
    serviceAccount: {
      client_email: email,
      private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      token_uri: tokenUri,
    },
    counters,
    faults,
    requests,
    setLatency(l) {
      for (const [k, v] of Object.entries(l)) {
        if (typeof v !== 'number' || v < 0) throw new ConfigurationError(`latency.${k} must be a number >= 0`);
        (latency as Record<string, number>)[k] = v;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const r of hung) r.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
