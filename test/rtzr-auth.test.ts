import { afterEach, describe, expect, it, vi } from 'vitest';
import { RtzrProvider, StreamingRecognizer, type StreamingRecognizerOptions } from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { script, writeCall, mulaw8k, frames } from './helpers/sample-call.js';

let emulator: RtzrEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  vi.useRealTimers();
  await recognizer?.close();
  await emulator?.close();
  recognizer = undefined;
  emulator = undefined;
});

/** `{ reconnect: false }` makes a stream surface the provider's own error instead of recovering from it. */
async function setup(
  opts: Parameters<typeof startRtzrEmulator>[0] = {},
  provider: ConstructorParameters<typeof RtzrProvider>[0] = {},
  rec: Partial<StreamingRecognizerOptions> = {},
) {
  emulator = await startRtzrEmulator({ script, ...opts });
  const p = new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    ...provider,
  });
  recognizer = new StreamingRecognizer({ providers: [p], ...rec });
  return { emulator, recognizer, provider: p };
}

describe('RTZR token cache', () => {
  it('20 streams started at once cause exactly one authenticate request', async () => {
    const { emulator, recognizer } = await setup({ latency: { authMs: 100 } });
    const streams = Array.from({ length: 20 }, () => recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } }));
    await Promise.all(streams.map((s) => new Promise<void>((r) => s.once('open', () => r()))));
    expect(emulator.counters.authRequests).toBe(1);
    expect(emulator.counters.connections).toBe(20);
    await Promise.all(streams.map((s) => s.end()));
  });

  it('sequential calls reuse the token', async () => {
    const { emulator, recognizer } = await setup();
    for (let i = 0; i < 3; i++) {
      const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      for (const f of frames(mulaw8k.data.subarray(0, 4000), 160)) s.write(f);
      await s.end();
    }
    expect(emulator.counters.authRequests).toBe(1);
    expect(emulator.counters.connections).toBe(3);
  });

  it('refreshes the token before it expires', async () => {
    // Only the wall clock is fake (sockets and timers are real): the provider's token cache and the
    // emulator's token expiry both read Date.now, so moving it moves the token's age.
    vi.useFakeTimers({ toFake: ['Date'] });
    // lifetime 4 s, margin 3 s → the effective margin is half the lifetime (2 s)
    const { emulator, recognizer } = await setup({ tokenLifetimeSec: 4 }, { tokenRefreshMarginMs: 3000 });
    const open = async () => {
      const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
      await new Promise<void>((r) => s.once('open', () => r()));
      await s.end();
    };
    await open();
    expect(emulator.counters.authRequests).toBe(1);
    await open(); // well inside the lifetime: cached
    expect(emulator.counters.authRequests).toBe(1);
    vi.setSystemTime(Date.now() + 2300); // now inside the refresh margin, not yet expired
    await open(); // served with the still-valid token, refresh started in the background
    await expect.poll(() => emulator.counters.authRequests).toBe(2);
    await open();
    expect(emulator.counters.authRequests).toBe(2);
  });

  it('a 401 on the handshake forces one refresh and one retry', async () => {
    const { emulator, recognizer, provider } = await setup();
    await recognizer.warmup();
    expect(emulator.counters.authRequests).toBe(1);
    emulator.faults.expireTokens();
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(s);
    const summary = await s.end();
    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(emulator.counters.authRequests).toBe(2);
    expect(provider.stats.authRetries).toBe(1);
  });

  it('a 401 that persists after the refresh fails the stream with AUTH_FAILED, once', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.rejectConnections(401, 2);
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.code));
    const summary = await s.end();
    expect(errors).toEqual(['AUTH_FAILED']);
    expect(summary.error?.code).toBe('AUTH_FAILED');
    expect(summary.error?.status).toBe(401);
    expect(s.state).toBe('failed');
    expect(emulator.counters.connections + emulator.counters.rejectedConnections).toBeLessThanOrEqual(2);
  });

  it('wrong credentials give AUTH_FAILED with RTZR code H0002 and never echo the secret', async () => {
    const { recognizer } = await setup({}, { clientSecret: 'super-secret-value' });
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const summary = await s.end();
    expect(summary.error?.code).toBe('AUTH_FAILED');
    expect(summary.error?.providerCode).toBe('H0002');
    expect(summary.error?.message).not.toContain('super-secret-value');
    expect(JSON.stringify(summary.error)).not.toContain('super-secret-value');
  });

  it('authenticate 500 gives a retryable AUTH_FAILED', async () => {
    const { emulator, recognizer } = await setup({}, {}, { reconnect: false });
    emulator.faults.failAuth(500);
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const summary = await s.end();
    expect(summary.error).toMatchObject({ code: 'AUTH_FAILED', status: 500, retryable: true });
  });

  it('an authenticate that never answers times out with TIMEOUT', async () => {
    const { emulator, recognizer } = await setup({}, { authTimeoutMs: 300 }, { reconnect: false });
    emulator.faults.hangAuth();
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const summary = await s.end();
    expect(summary.error?.code).toBe('TIMEOUT');
  });

  it('429 on the handshake gives RATE_LIMITED with RTZR code A0002', async () => {
    const { recognizer } = await setup({ maxConcurrent: 1 }, {}, { reconnect: false });
    const a = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await new Promise<void>((r) => a.once('open', () => r()));
    const b = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const summary = await b.end();
    expect(summary.error).toMatchObject({ code: 'RATE_LIMITED', status: 429, providerCode: 'A0002', retryable: true });
    await a.end();
  });

  it('with reconnect disabled, a dropped connection fails the stream with CONNECTION_LOST', async () => {
    const { emulator } = await setup();
    await recognizer!.close(); // closes its provider too: the recognizer owns its providers
    const provider = new RtzrProvider({ apiBase: emulator.apiBase, ...emulator.credentials });
    recognizer = new StreamingRecognizer({ providers: [provider], reconnect: false });
    emulator.faults.dropAfterAudioMs(1500);
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const err = new Promise<{ code: string }>((r) => s.once('error', r));
    void writeCall(s).catch(() => undefined);
    expect((await err).code).toBe('CONNECTION_LOST');
    expect(s.state).toBe('failed');
  });

  it('a malformed frame fails the stream with PROVIDER_ERROR', async () => {
    const { emulator, recognizer } = await setup({}, {}, { reconnect: false });
    emulator.faults.sendMalformed();
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const err = new Promise<{ code: string }>((r) => s.once('error', r));
    void writeCall(s).catch(() => undefined);
    expect((await err).code).toBe('PROVIDER_ERROR');
  });
});
