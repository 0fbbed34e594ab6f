/**
 * Our HTTP (RTZR authenticate, Google OAuth2 token and speech:recognize) is visible to msw's
 * `setupServer`, set up exactly as in a user's test: no option, the providers' default endpoints,
 * no network. Then the HTTP-level edge cases where a full emulator is overkill: status codes,
 * malformed bodies, hung responses, network errors, redirects.
 */
import { generateKeyPairSync } from 'node:crypto';
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GoogleProvider, RtzrProvider, StreamingRecognizer, isSttError, type SttError } from '../src/index.js';
import { linear16k } from './helpers/sample-call.js';

const RTZR_AUTH = 'https://openapi.vito.ai/v1/authenticate';
const GOOGLE_RECOGNIZE = 'https://speech.googleapis.com/v1/speech:recognize';
const GOOGLE_TOKEN = 'https://oauth2.googleapis.com/token';

// What a user's test file does: one server, handlers per test, unhandled requests are errors.
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

async function tokenError(provider: RtzrProvider): Promise<SttError> {
  try {
    await provider.warmup();
  } catch (err) {
    if (isSttError(err)) return err;
    throw err;
  } finally {
    await provider.close();
  }
  throw new Error('expected warmup() to fail');
}

describe("msw's setupServer sees our requests, as in a user's test", () => {
  it('intercepts the RTZR authenticate request (form body with the credentials)', async () => {
    const seen: Record<string, string>[] = [];
    server.use(
      http.post(RTZR_AUTH, async ({ request }) => {
        seen.push(Object.fromEntries(new URLSearchParams(await request.text())));
        return HttpResponse.json({ access_token: 'token-from-msw', expire_at: inAnHour() });
      }),
    );
    const provider = new RtzrProvider({ clientId: 'my-id', clientSecret: 'my-secret' });
    await provider.warmup(); // resolves only with a usable token
    expect(seen).toEqual([{ client_id: 'my-id', client_secret: 'my-secret' }]);
    expect(provider.stats.tokenFetches).toBe(1);
    await provider.warmup(); // cached: no second request
    expect(seen).toHaveLength(1);
    await provider.close();
  });

  it('intercepts Google speech:recognize with an API key; the transcript comes back as a final', async () => {
    const bodies: { config: Record<string, unknown>; audio: { content: string } }[] = [];
    const keys: (string | null)[] = [];
    server.use(
      http.post(GOOGLE_RECOGNIZE, async ({ request }) => {
        keys.push(request.headers.get('x-goog-api-key'));
        bodies.push((await request.json()) as (typeof bodies)[number]);
        return HttpResponse.json({
          results: [{ alternatives: [{ transcript: '안녕하세요', confidence: 0.93 }], languageCode: 'ko-kr' }],
        });
      }),
    );
    const recognizer = new StreamingRecognizer({ providers: [new GoogleProvider({ apiKey: 'my-api-key' })] });
    const summary = await recognizer.recognize(linear16k.data.subarray(0, 32 * 3000), {
      audio: { encoding: 'linear16', sampleRate: 16000 },
    });
    expect(summary.error).toBeUndefined();
    expect(summary.text).toBe('안녕하세요');
    expect(summary.transcripts[0]).toMatchObject({ provider: 'google', confidence: 0.93 });
    expect(keys.every((k) => k === 'my-api-key')).toBe(true);
    expect(bodies[0]!.config).toMatchObject({ encoding: 'LINEAR16', sampleRateHertz: 16000, languageCode: 'ko-KR' });
    expect(Buffer.from(bodies[0]!.audio.content, 'base64').length).toBeGreaterThan(0);
    await recognizer.close();
  });

  it('intercepts the Google OAuth2 token exchange of a service account and the recognize requests it authorises', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const grants: string[] = [];
    const auth: (string | null)[] = [];
    server.use(
      http.post(GOOGLE_TOKEN, async ({ request }) => {
        grants.push(new URLSearchParams(await request.text()).get('grant_type') ?? '');
        return HttpResponse.json({ access_token: 'ya29.from-msw', expires_in: 3600, token_type: 'Bearer' });
      }),
      http.post(GOOGLE_RECOGNIZE, ({ request }) => {
        auth.push(request.headers.get('authorization'));
        return HttpResponse.json({ results: [{ alternatives: [{ transcript: '예약 확인' }] }] });
      }),
    );
    const provider = new GoogleProvider({ credentials: { client_email: 'svc@project.iam.gserviceaccount.com', private_key: pem } });
    const recognizer = new StreamingRecognizer({ providers: [provider] });
    const summary = await recognizer.recognize(linear16k.data.subarray(0, 32 * 3000), {
      audio: { encoding: 'linear16', sampleRate: 16000 },
    });
    expect(summary.text).toBe('예약 확인');
    expect(grants).toEqual(['urn:ietf:params:oauth:grant-type:jwt-bearer']);
    expect(auth.length).toBeGreaterThan(0);
    expect(auth.every((a) => a === 'Bearer ya29.from-msw')).toBe(true);
    await recognizer.close();
  });
});

describe('RTZR authenticate: HTTP edge cases', () => {
  const rtzr = (extra: object = {}) => new RtzrProvider({ clientId: 'id', clientSecret: 'secret', ...extra });

  it('401 with H0002 → AUTH_FAILED, not retryable, with status and provider code', async () => {
    server.use(http.post(RTZR_AUTH, () => HttpResponse.json({ code: 'H0002', msg: 'invalid credential' }, { status: 401 })));
    expect(await tokenError(rtzr())).toMatchObject({ code: 'AUTH_FAILED', retryable: false, status: 401, providerCode: 'H0002' });
  });

  it('429 → RATE_LIMITED; 500 and 503 → retryable', async () => {
    server.use(http.post(RTZR_AUTH, () => HttpResponse.json({ code: 'A0002', msg: 'too many requests' }, { status: 429 })));
    expect(await tokenError(rtzr())).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    for (const status of [500, 503]) {
      server.use(http.post(RTZR_AUTH, () => new HttpResponse('upstream down', { status })));
      expect(await tokenError(rtzr())).toMatchObject({ retryable: true, status });
    }
  });

  it.each([
    ['a body that is not JSON', () => new HttpResponse('<html>gateway</html>', { status: 200 }), /not JSON/],
    ['JSON without access_token', () => HttpResponse.json({ expire_at: inAnHour() }), /lacks access_token/],
    ['a token that has already expired', () => HttpResponse.json({ access_token: 't', expire_at: 1 }), /already expired/],
  ])('200 with %s → PROVIDER_ERROR', async (_name, reply, message) => {
    server.use(http.post(RTZR_AUTH, reply));
    const err = await tokenError(rtzr());
    expect(err.code).toBe('PROVIDER_ERROR');
    expect(err.message).toMatch(message);
  });

  it('a response that never comes → TIMEOUT after authTimeoutMs', async () => {
    server.use(
      http.post(RTZR_AUTH, async () => {
        await delay('infinite');
        return HttpResponse.json({});
      }),
    );
    expect(await tokenError(rtzr({ authTimeoutMs: 50 }))).toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('a slow response within authTimeoutMs is fine', async () => {
    server.use(
      http.post(RTZR_AUTH, async () => {
        await delay(100);
        return HttpResponse.json({ access_token: 'slow-token', expire_at: inAnHour() });
      }),
    );
    const p = rtzr({ authTimeoutMs: 10_000 });
    await p.warmup(); // resolves only with a usable token
    expect(p.stats.tokenFetches).toBe(1);
    await p.close();
  });

  it('a network error → CONNECTION_FAILED, retryable', async () => {
    server.use(http.post(RTZR_AUTH, () => HttpResponse.error()));
    expect(await tokenError(rtzr())).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
  });

  it('a redirect is not followed: the credentials never go to another host', async () => {
    let elsewhere = 0;
    server.use(
      http.post(RTZR_AUTH, () => new HttpResponse(null, { status: 307, headers: { location: 'https://attacker.example/collect' } })),
      http.post('https://attacker.example/collect', () => {
        elsewhere++;
        return HttpResponse.json({ access_token: 'x', expire_at: inAnHour() });
      }),
    );
    const err = await tokenError(rtzr());
    expect(err.status).toBe(307);
    expect(elsewhere).toBe(0);
  });

  it('a body larger than the bound is not read into memory', async () => {
    const big = new Uint8Array(9 * 1024 * 1024).fill(0x20);
    server.use(http.post(RTZR_AUTH, () => new HttpResponse(big, { status: 200 })));
    const err = await tokenError(rtzr());
    expect(err.message).toMatch(/larger than/);
  });
});

describe('Google REST: HTTP edge cases', () => {
  async function recognizeWith(reply: Parameters<typeof http.post>[1], extra: object = {}) {
    server.use(http.post(GOOGLE_RECOGNIZE, reply));
    const recognizer = new StreamingRecognizer({
      providers: [new GoogleProvider({ apiKey: 'k', retries: 0, ...extra })],
      fallback: false,
      reconnect: false,
    });
    try {
      return await recognizer.recognize(linear16k.data.subarray(0, 32 * 3000), { audio: { encoding: 'linear16', sampleRate: 16000 } });
    } finally {
      await recognizer.close();
    }
  }

  it.each([
    [400, 'INVALID_ARGUMENT', 'INVALID_CONFIG'],
    [403, 'PERMISSION_DENIED', 'AUTH_FAILED'],
    [429, 'RESOURCE_EXHAUSTED', 'RATE_LIMITED'],
  ])('HTTP %i %s → %s, with the status and Google status in the error', async (status, canonical, code) => {
    const summary = await recognizeWith(() =>
      HttpResponse.json({ error: { code: status, message: 'nope', status: canonical } }, { status }),
    );
    expect(summary.error).toMatchObject({ code, status, providerCode: canonical });
  });

  it('500 → a retryable error', async () => {
    const summary = await recognizeWith(() => HttpResponse.json({ error: { code: 500, status: 'INTERNAL' } }, { status: 500 }));
    expect(summary.error).toMatchObject({ retryable: true, status: 500 });
  });

  it('a 200 body that is not JSON → PROVIDER_ERROR', async () => {
    const summary = await recognizeWith(() => new HttpResponse('{"results": [', { status: 200 }));
    expect(summary.error).toMatchObject({ code: 'PROVIDER_ERROR' });
  });

  it('an empty result (silence) is no final and no error', async () => {
    const summary = await recognizeWith(() => HttpResponse.json({}));
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts).toEqual([]);
  });

  it('a recognize that never answers → TIMEOUT after requestTimeoutMs', async () => {
    const summary = await recognizeWith(
      async () => {
        await delay('infinite');
        return HttpResponse.json({});
      },
      { requestTimeoutMs: 50 },
    );
    expect(summary.error).toMatchObject({ code: 'TIMEOUT' });
  });
});
