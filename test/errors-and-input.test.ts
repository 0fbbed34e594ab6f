import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  ConfigurationError,
  RtzrProvider,
  SttError,
  StreamingRecognizer,
  isSttError,
} from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { buildStreamingUrl, resolveRtzrOptions, withSessionOptions } from '../src/providers/rtzr/options.js';
import { script } from './helpers/sample-call.js';

let emulator: RtzrEmulator;
let recognizer: StreamingRecognizer;
const creds = () => ({
  apiBase: emulator.apiBase,
  websocketUrl: emulator.websocketUrl,
  clientId: emulator.credentials.clientId,
  clientSecret: emulator.credentials.clientSecret,
});

beforeAll(async () => {
  emulator = await startRtzrEmulator({ script });
  recognizer = new StreamingRecognizer({ providers: [new RtzrProvider(creds())] });
});
afterAll(async () => {
  await recognizer.close();
  await emulator.close();
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('bad input gets a typed error and the process keeps running', () => {
  it('odd-length LINEAR16 chunk is not an error: the partial sample waits for the next chunk (spec §2)', async () => {
    const s = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    expect(s.write(new Uint8Array(3))).toBe(true);
    expect(s.write(new Uint8Array(637))).toBe(true);
    expect(s.audioMs).toBe(20);
    const summary = await s.end();
    expect(summary.error).toBeUndefined();
    expect(summary.droppedMs).toBe(0);
  });

  it('non-binary chunk → INVALID_AUDIO', () => {
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    for (const bad of ['hello', 42, null, undefined, [1, 2, 3], { length: 2 }]) {
      const e = catchErr(() => s.write(bad as never));
      expect(isSttError(e)).toBe(true);
      expect((e as SttError).code).toBe('INVALID_AUDIO');
    }
    expect(catchErr(() => s.write(new Int16Array(4)))).toMatchObject({ code: 'INVALID_AUDIO' });
    s.abort();
  });

  it('write after end() does not throw: false, and the audio is counted as dropped (spec §2)', async () => {
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const ended = s.end();
    expect(s.write(new Uint8Array(160))).toBe(false);
    const summary = await ended;
    expect(s.write(new Uint8Array(160))).toBe(false);
    expect(summary.droppedMs).toBe(40);
  });

  it('unsupported sample rate → INVALID_CONFIG before any network call', () => {
    const before = emulator.counters.connections;
    for (const sampleRate of [4000, 96000, 16000.5, 0, -8000]) {
      const e = catchErr(() => recognizer.stream({ audio: { encoding: 'linear16', sampleRate } }));
      expect(e).toBeInstanceOf(ConfigurationError);
      expect((e as Error).message).toMatch(/sample rate/);
    }
    expect(emulator.counters.connections).toBe(before);
  });

  it('unknown encoding → INVALID_CONFIG', () => {
    const e = catchErr(() => recognizer.stream({ audio: { encoding: 'opus' as never, sampleRate: 16000 } }));
    expect(e).toMatchObject({ code: 'INVALID_CONFIG' });
    expect((e as Error).message).toMatch(/opus/);
  });

  it('missing credentials → INVALID_CONFIG naming the variables', () => {
    const saved = { id: process.env.RTZR_CLIENT_ID, secret: process.env.RTZR_CLIENT_SECRET };
    delete process.env.RTZR_CLIENT_ID;
    delete process.env.RTZR_CLIENT_SECRET;
    try {
      const e = catchErr(() => new RtzrProvider());
      expect(e).toBeInstanceOf(ConfigurationError);
      expect((e as Error).message).toContain('RTZR_CLIENT_ID');
      expect((e as Error).message).toContain('RTZR_CLIENT_SECRET');
      const e2 = catchErr(() => new RtzrProvider({ clientId: 'x' }));
      expect((e2 as Error).message).not.toContain('RTZR_CLIENT_ID');
      expect((e2 as Error).message).toContain('RTZR_CLIENT_SECRET');
    } finally {
      if (saved.id !== undefined) process.env.RTZR_CLIENT_ID = saved.id;
      if (saved.secret !== undefined) process.env.RTZR_CLIENT_SECRET = saved.secret;
    }
  });

  it('invalid decoder options → INVALID_CONFIG', () => {
    const bad: object[] = [
      { domain: 'OFFICE' },
      { modelName: 'sommers_xx' },
      { epdTime: 0 },
      { keywords: Array.from({ length: 101 }, () => '상담') },
      { keywords: ['아주아주아주아주아주아주아주아주아주아주아주'] },
      { keywords: [['상담원', 9]] },
      { keywords: ['hello'] },
      { apiBase: 'ftp://x' },
    ];
    for (const o of bad) expect(catchErr(() => new RtzrProvider({ ...creds(), ...o }))).toBeInstanceOf(ConfigurationError);
  });

  it('the recognizer rejects an empty or duplicated provider list', () => {
    expect(catchErr(() => new StreamingRecognizer({ providers: [] }))).toBeInstanceOf(ConfigurationError);
    const p = new RtzrProvider(creds());
    expect(catchErr(() => new StreamingRecognizer({ providers: [p, p] }))).toMatchObject({ code: 'INVALID_CONFIG' });
    void p.close();
  });
});

describe('streaming query string', () => {
  it('is built with URLSearchParams, lower-case booleans and word:score keywords', () => {
    const o = resolveRtzrOptions({
      ...creds(),
      useItn: false,
      usePunctuation: true,
      epdTime: 0.8,
      keywords: ['리턴제로', ['상담원', 3]],
    });
    const url = new URL(buildStreamingUrl(o, { encoding: 'linear16', sampleRate: 8000 }, 'ko-KR'));
    expect(url.pathname).toBe('/v1/transcribe:streaming');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      sample_rate: '8000',
      encoding: 'LINEAR16',
      model_name: 'sommers_ko',
      domain: 'CALL',
      use_itn: 'false',
      use_punctuation: 'true',
      epd_time: '0.8',
      keywords: '리턴제로,상담원:3',
    });
  });

  it('per-stream options override the provider\'s one by one, with the same validation', () => {
    const base = resolveRtzrOptions({ ...creds(), epdTime: 0.8, useItn: false, keywords: ['리턴제로', ['상담원', 3]] });
    const query = (session: Parameters<typeof withSessionOptions>[1]) =>
      Object.fromEntries(new URL(buildStreamingUrl(withSessionOptions(base, session), { encoding: 'linear16', sampleRate: 8000 }, 'ko-KR')).searchParams);
    // the provider's own options are kept, keywords included, when the stream sets nothing
    expect(query({})).toMatchObject({ epd_time: '0.8', use_itn: 'false', keywords: '리턴제로,상담원:3' });
    // the stream's keywords replace the provider's; decoder options override one by one
    expect(query({ keywords: ['예약'], decoder: { epdTime: 0.6, usePunctuation: true } })).toMatchObject({
      epd_time: '0.6',
      use_itn: 'false',
      use_punctuation: 'true',
      keywords: '예약',
    });
    expect(query({ keywords: ['예약'], decoder: { keywords: [['취소', 2]] } }).keywords).toBe('취소:2'); // the decoder's win
    expect(query({ keywords: [] }).keywords).toBeUndefined();
    const provider = new RtzrProvider(creds());
    for (const bad of [{ keywords: ['hello'] }, { decoder: { epdTime: 0 } }, { decoder: { clientSecret: 'x' } }, { decoder: { domain: 'OFFICE' } }]) {
      expect(catchErr(() => provider.checkSessionOptions(bad))).toBeInstanceOf(ConfigurationError);
    }
    expect(() => provider.checkSessionOptions({ keywords: ['상담원'], decoder: { maxUtterDuration: 20 } })).not.toThrow();
    void provider.close();
  });

  it('sends language only for the whisper model', () => {
    const o = resolveRtzrOptions({ ...creds(), modelName: 'whisper' });
    const url = new URL(buildStreamingUrl(o, { encoding: 'linear16', sampleRate: 16000 }, 'en-US'));
    expect(url.searchParams.get('language')).toBe('en');
  });

  it('derives the WebSocket base from the API base', () => {
    const o = resolveRtzrOptions({ clientId: 'a', clientSecret: 'b', apiBase: 'https://openapi.vito.ai/' }, {});
    expect(o.websocketUrl).toBe('wss://openapi.vito.ai');
  });
});

describe('errors', () => {
  it('instanceof works across copies through the Symbol.for brand', () => {
    const foreign = new AuthenticationError('x');
    // simulate an object made by another copy of the package: same brand, different prototype chain
    const clone = Object.assign(Object.create(Error.prototype), foreign, {
      [Symbol.for('streaming-stt.SttError')]: true,
      [Symbol.for('streaming-stt.SttError.class')]: ['AuthenticationError', 'SttError'],
      code: 'AUTH_FAILED',
    });
    expect(clone instanceof SttError).toBe(true);
    expect(clone instanceof AuthenticationError).toBe(true);
    expect(clone instanceof ConfigurationError).toBe(false);
    expect(isSttError(clone)).toBe(true);
    expect(isSttError(new Error('x'))).toBe(false);
  });

  it('an error event with no listener does not throw', async () => {
    const r = new StreamingRecognizer({ providers: [new RtzrProvider({ ...creds(), clientSecret: 'wrong' })] });
    const s = r.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const summary = await s.end();
    expect(summary.error?.code).toBe('AUTH_FAILED');
    await r.close();
  });
});
