/**
 * Spec §4: no credential or access token in `util.inspect()` / `JSON.stringify()` of any object the
 * package returns (providers, recognizer, streams, sessions, summaries, errors), the way a logger
 * (pino, winston, console.log) would serialise them, with real-looking secrets and tokens that were
 * really fetched (captured on their way from the emulators with msw's `bypass`).
 */
import { format, inspect } from 'node:util';
import { bypass, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FasterWhisperProvider,
  GoogleProvider,
  RtzrProvider,
  StreamingRecognizer,
  WhisperLiveProvider,
  isSttError,
  type SttError,
  type StreamSummary,
} from '../src/index.js';
import { startGoogleEmulator, startRtzrEmulator, type GoogleEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { linear16k, mulaw8k, script, writeCall } from './helpers/sample-call.js';

const RTZR_ID = 'rtzr-client-9f8e7d6c5b4a';
const RTZR_SECRET = 'rtzr-secret-Zq8sL2pX0vB7nM4kT1yW';
const WRONG_SECRET = 'rtzr-secret-WRONG-Hh3Jk9Lm2Nb5Vc8X';
const GOOGLE_KEY = 'AIzaSyD-google-api-key-0123456789abcdef';
const FW_BEARER = 'fw-bearer-4d5e6f7a8b9c0d1e';
const WL_KEY = 'wl-api-key-a1b2c3d4e5f6a7b8';

let rtzr: RtzrEmulator;
let google: GoogleEmulator;
const tokens: string[] = []; // access tokens the emulators issued to us
const server = setupServer(
  // Pass every token request through to the emulator, keeping a copy of the token it issues.
  http.post(/\/v1\/authenticate$/, ({ request }) => passThroughKeepingToken(request)),
  http.post(/\/token$/, ({ request }) => passThroughKeepingToken(request)),
);

async function passThroughKeepingToken(request: Request): Promise<Response> {
  try {
    const res = await fetch(bypass(request));
    const body = (await res.clone().json().catch(() => ({}))) as { access_token?: string };
    if (body.access_token) tokens.push(body.access_token);
    return res;
  } catch {
    return HttpResponse.error(); // the client gave up (a provider closed mid-request)
  }
}

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' });
  rtzr = await startRtzrEmulator({ script, credentials: { clientId: RTZR_ID, clientSecret: RTZR_SECRET } });
  google = await startGoogleEmulator({ script, apiKey: GOOGLE_KEY });
});
afterAll(async () => {
  server.close();
  await rtzr.close();
  await google.close();
});

const rtzrOptions = (secret = RTZR_SECRET) => ({
  apiBase: rtzr.apiBase,
  websocketUrl: rtzr.websocketUrl,
  clientId: RTZR_ID,
  clientSecret: secret,
});

/** Every way a logger or a developer renders an object. */
function renderings(value: unknown, json: boolean): string[] {
  const shown = [
    inspect(value),
    inspect(value, { depth: Infinity, showHidden: true, getters: true }),
    format('%o', value),
    format('%O', value),
    String((value as { message?: unknown })?.message ?? ''),
  ];
  if (json) shown.push(format('%j', value), JSON.stringify(value) ?? '', JSON.stringify({ nested: { value } }) ?? '');
  return shown;
}

function secrets(): string[] {
  const pem = google.serviceAccount.private_key;
  const pemBody = pem.split('\n').find((l) => l.length > 40 && !l.startsWith('-----'))!;
  return [RTZR_SECRET, WRONG_SECRET, RTZR_ID, GOOGLE_KEY, FW_BEARER, WL_KEY, pemBody, ...tokens];
}

function expectNoSecret(name: string, value: unknown, json = true): void {
  for (const text of renderings(value, json)) {
    for (const secret of secrets()) expect(text.includes(secret), `${name} shows ${secret.slice(0, 12)}…`).toBe(false);
  }
}

describe('§4 redaction: secrets and tokens never show in inspect() or JSON.stringify()', () => {
  it('RTZR: provider, recognizer, streams (open, closed), summary, session, errors', async () => {
    const provider = new RtzrProvider({ ...rtzrOptions(), prewarm: 1 });
    const recognizer = new StreamingRecognizer({ providers: [provider] });
    await recognizer.warmup();
    expect(tokens.length).toBeGreaterThan(0); // a real token is held now

    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(stream, mulaw8k.data.subarray(0, 8 * 3500));
    await new Promise((r) => stream.once('final', r));
    expectNoSecret('open stream', stream);
    expectNoSecret('recognizer', recognizer);
    expectNoSecret('provider', provider);
    expectNoSecret('provider.stats', provider.stats);
    expectNoSecret('recognizer.metrics()', recognizer.metrics());
    const summary = await stream.end();
    expect(summary.transcripts.length).toBeGreaterThan(0);
    expectNoSecret('closed stream', stream);
    expectNoSecret('summary', summary);

    // A session opened directly (the custom-provider API): its socket was opened with the token.
    const ac = new AbortController();
    const session = await provider.connect({
      format: { encoding: 'linear16', sampleRate: 16000, channels: 1 },
      language: 'ko-KR',
      interimResults: true,
      signal: ac.signal,
      logger: console,
      onResult: () => {},
      onError: () => {},
    });
    expectNoSecret('session', session, false); // an internal object of the custom-provider API: inspected, not serialised
    session.abort();

    // The token rejected at the handshake (expired server-side): refreshed, never shown.
    rtzr.faults.expireTokens();
    const again = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    const opened = new Promise((r) => again.once('open', r));
    await writeCall(again, linear16k.data.subarray(0, 32 * 1000));
    await opened;
    expectNoSecret('stream after a 401 refresh', again);
    again.abort();
    expect(provider.stats.authRetries).toBeGreaterThan(0);

    // Wrong credentials: the error (and its cause chain) names neither the secret nor the id.
    const wrong = new RtzrProvider({ ...rtzrOptions(WRONG_SECRET), id: 'rtzr-wrong' });
    const err = await wrong.warmup().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isSttError(err) && err.code).toBe('AUTH_FAILED');
    expectNoSecret('authentication error', err);
    expectNoSecret('provider with a wrong secret', wrong);

    // A failed stream (every provider failed): error event, summary, AllProvidersFailedError.
    rtzr.faults.failAuth(401, 100);
    const r2 = new StreamingRecognizer({ providers: [wrong, new RtzrProvider({ ...rtzrOptions(WRONG_SECRET), id: 'rtzr-b' })] });
    const failing = r2.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    let emitted: SttError | undefined;
    failing.on('error', (e) => (emitted = e));
    failing.write(mulaw8k.data.subarray(0, 1600));
    const failed: StreamSummary = await failing.end();
    expect(failed.error?.code).toBe('ALL_PROVIDERS_FAILED');
    expectNoSecret('AllProvidersFailedError', failed.error);
    expectNoSecret('error event', emitted);
    expectNoSecret('failed summary', failed);
    expectNoSecret('failed stream', failing);
    rtzr.faults.reset();
    await r2.close();
    await recognizer.close();
    expectNoSecret('closed recognizer', recognizer);
  });

  it('Google: API key and service account (private key and the fetched OAuth2 token)', async () => {
    const byKey = new GoogleProvider({ endpoint: google.endpoint, apiKey: GOOGLE_KEY });
    const bySa = new GoogleProvider({ id: 'google-sa', endpoint: google.endpoint, credentials: google.serviceAccount });
    const recognizer = new StreamingRecognizer({ providers: [byKey, bySa] });
    const before = tokens.length;
    await recognizer.warmup();
    expect(tokens.length).toBe(before + 1); // the service-account token, fetched for real
    const summary = await recognizer.recognize(linear16k.data.subarray(0, 32 * 3500), {
      audio: { encoding: 'linear16', sampleRate: 16000 },
    });
    expect(summary.transcripts.length).toBeGreaterThan(0);
    const sa = new StreamingRecognizer({ providers: [bySa] });
    await sa.recognize(linear16k.data.subarray(0, 32 * 3500), { audio: { encoding: 'linear16', sampleRate: 16000 } });
    for (const [name, v] of Object.entries({ byKey, bySa, recognizer, sa, summary })) expectNoSecret(name, v);
    const badKey = new GoogleProvider({ id: 'google-bad', endpoint: google.endpoint, apiKey: `${GOOGLE_KEY}-revoked` });
    const r = new StreamingRecognizer({ providers: [badKey], fallback: false });
    const res = await r.recognize(linear16k.data.subarray(0, 32 * 3500), { audio: { encoding: 'linear16', sampleRate: 16000 } });
    expect(res.error?.code).toBe('AUTH_FAILED');
    expectNoSecret('google auth error', res.error);
    for (const x of [recognizer, sa, r]) await x.close();
  });

  it('self-hosted Whisper providers: header values and the API key', async () => {
    const fw = new FasterWhisperProvider({ url: 'ws://127.0.0.1:1/asr', headers: { Authorization: `Bearer ${FW_BEARER}` } });
    const wl = new WhisperLiveProvider({ url: 'ws://127.0.0.1:1', apiKey: WL_KEY, headers: { 'x-api-key': WL_KEY } });
    const recognizer = new StreamingRecognizer({ providers: [fw, wl] });
    for (const [name, v] of Object.entries({ fw, wl, recognizer })) expectNoSecret(name, v);
    expect(inspect(fw)).toContain("Authorization: '[redacted]'");
    await recognizer.close();
  });

  it('views still say what a developer needs: ids, endpoints, state, counters', async () => {
    const provider = new RtzrProvider({ ...rtzrOptions(), id: 'rtzr-view' });
    const recognizer = new StreamingRecognizer({ providers: [provider] });
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    stream.write(mulaw8k.data.subarray(0, 800));
    const text = inspect(recognizer, { depth: 4 });
    expect(text).toMatch(/^StreamingRecognizer \{/);
    expect(text).toContain('RtzrProvider');
    expect(text).toContain(rtzr.apiBase.replace(/\/$/, ''));
    expect(inspect(stream)).toMatch(/^RecognitionStream \{[\s\S]*state: 'connecting'[\s\S]*audioMs: 100/);
    expect(JSON.parse(JSON.stringify(stream))).toMatchObject({ state: 'connecting', audioMs: 100, droppedMs: 0 });
    expect(JSON.parse(JSON.stringify(provider))).toMatchObject({ id: 'rtzr-view', clientSecret: '[redacted]' });
    stream.abort();
    const err = (await stream.end()).error!;
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ name: 'AbortError', code: 'ABORTED', message: 'stream aborted' });
    await recognizer.close();
  });
});
