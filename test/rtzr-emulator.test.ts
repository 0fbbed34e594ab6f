import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startRtzrEmulator, type RtzrEmulator, type RtzrEmulatorOptions } from '../src/testing/rtzr/index.js';

// ---- fixtures ---------------------------------------------------------------

interface Truth {
  utterances: Array<{ text: string; startMs: number; endMs: number }>;
}
const truth = JSON.parse(readFileSync(new URL('../examples/audio/call-ko.json', import.meta.url), 'utf8')) as Truth;
const SCRIPT = truth.utterances.map((u) => u.text);

/** Tiny local WAV reader: the bytes of the `data` chunk. */
function wavData(name: string): Uint8Array {
  const b = readFileSync(new URL(`../examples/audio/${name}`, import.meta.url));
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'data') return new Uint8Array(b.subarray(off + 8, off + 8 + size));
    off += 8 + size + (size & 1);
  }
  throw new Error(`no data chunk in ${name}`);
}
const MULAW_8K = wavData('call-ko-8k-mulaw.wav');
const LINEAR16_16K = wavData('call-ko-16k-linear16.wav');

// ---- protocol helpers -------------------------------------------------------

interface Word {
  text: string;
  start_at: number;
  duration: number;
  confidence: number;
}
interface Result {
  seq: number;
  start_at: number;
  duration: number;
  final: boolean;
  alternatives: Array<{ text: string; confidence: number; words?: Word[] }>;
}

let emu: RtzrEmulator | undefined;
const sockets: WebSocket[] = [];

async function start(options: RtzrEmulatorOptions = {}): Promise<RtzrEmulator> {
  emu = await startRtzrEmulator(options);
  return emu;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const ws of sockets.splice(0)) ws.terminate();
  await emu?.close();
  emu = undefined;
});

async function authenticate(e: RtzrEmulator, body?: string, contentType = 'application/x-www-form-urlencoded', signal?: AbortSignal) {
  const form = body ?? new URLSearchParams({ client_id: e.credentials.clientId, client_secret: e.credentials.clientSecret }).toString();
  const res = await fetch(`${e.apiBase}/v1/authenticate`, {
    method: 'POST',
    headers: { 'content-type': contentType, accept: 'application/json' },
    body: form,
    ...(signal ? { signal } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function token(e: RtzrEmulator): Promise<string> {
  const { status, json } = await authenticate(e);
  expect(status).toBe(200);
  return json.access_token as string;
}

const MULAW_QUERY = 'sample_rate=8000&encoding=MULAW';

function streamUrl(e: RtzrEmulator, query = MULAW_QUERY): string {
  return `${e.websocketUrl}/v1/transcribe:streaming?${query}`;
}

type Outcome =
  | { kind: 'open'; ws: WebSocket }
  | { kind: 'rejected'; status: number; body: Record<string, unknown> }
  | { kind: 'error'; error: Error };

/** Try a handshake and report how it ended. */
function tryConnect(url: string, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    sockets.push(ws);
    ws.on('unexpected-response', (req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        req.destroy();
        resolve({ kind: 'rejected', status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
      });
    });
    ws.on('open', () => resolve({ kind: 'open', ws }));
    ws.on('error', (error) => resolve({ kind: 'error', error }));
  });
}

/** An open connection that records every message and its close. */
interface Conn {
  ws: WebSocket;
  raw: string[];
  results: Result[];
  closed: Promise<number>;
}

async function connect(e: RtzrEmulator, query = MULAW_QUERY, bearer?: string): Promise<Conn> {
  const t = bearer ?? (await token(e));
  const outcome = await tryConnect(streamUrl(e, query), { Authorization: `Bearer ${t}` });
  if (outcome.kind !== 'open') throw new Error(`handshake failed: ${JSON.stringify(outcome)}`);
  const { ws } = outcome;
  const raw: string[] = [];
  const results: Result[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  ws.on('message', (data) => {
    const text = String(data);
    raw.push(text);
    try {
      const msg = JSON.parse(text) as Result;
      if (typeof msg.seq === 'number') results.push(msg);
    } catch {
      /* malformed frames stay in raw */
    }
  });
  return { ws, raw, results, closed };
}

function sendAudio(ws: WebSocket, bytes: Uint8Array, frameBytes: number, fromByte = 0, toByte = bytes.length): void {
  for (let i = fromByte; i < toByte; i += frameBytes) ws.send(bytes.subarray(i, Math.min(i + frameBytes, toByte)));
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('waitFor timed out');
    await sleep(5);
  }
}

/**
 * A barrier instead of "wait a bit, then check nothing arrived": the server handles a connection's
 * frames in order and writes its answers in order, so once the pong of a ping sent after the
 * frames arrives, every result those frames caused has arrived too (and a close would have come
 * before it). Rejects if the socket closes first.
 */
function settled(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number): void => reject(new Error(`closed (${code}) before the pong`));
    ws.once('close', onClose);
    ws.once('pong', () => {
      ws.off('close', onClose);
      resolve();
    });
    ws.ping();
  });
}

const finals = (c: Conn) => c.results.filter((r) => r.final);

/** Check a full call's results against the ground truth. */
function expectCallResults(results: Result[]): void {
  const fin = results.filter((r) => r.final);
  expect(fin.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  expect(fin.map((r) => r.alternatives[0]!.text)).toEqual(SCRIPT);
  fin.forEach((f, i) => {
    const t = truth.utterances[i]!;
    expect(Math.abs(f.start_at - t.startMs)).toBeLessThanOrEqual(300);
    expect(Math.abs(f.start_at + f.duration - t.endMs)).toBeLessThanOrEqual(300);
    expect(f.duration).toBeGreaterThan(0);
    const alt = f.alternatives[0]!;
    expect(alt.confidence).toBeGreaterThanOrEqual(0.9);
    expect(alt.confidence).toBeLessThan(1);
    const words = alt.words!;
    expect(words.map((w) => w.text)).toEqual(t.text.split(' '));
    let prev = -1;
    for (const w of words) {
      expect(w.start_at).toBeGreaterThan(prev); // relative, increasing
      expect(w.start_at + w.duration).toBeLessThanOrEqual(f.duration);
      prev = w.start_at;
    }
    expect(words[0]!.start_at).toBe(0);
  });
  // partials: before their final, duration 0, growing prefixes, never the full text
  for (const f of fin) {
    const idxFinal = results.indexOf(f);
    const partials = results.filter((r) => !r.final && r.seq === f.seq);
    expect(partials.length).toBeGreaterThan(0);
    let lastLen = 0;
    for (const p of partials) {
      expect(results.indexOf(p)).toBeLessThan(idxFinal);
      expect(p.duration).toBe(0);
      expect(p.start_at).toBe(f.start_at);
      expect(p.alternatives[0]!.words).toBeUndefined();
      const text = p.alternatives[0]!.text;
      expect(f.alternatives[0]!.text.startsWith(text)).toBe(true);
      expect(text.length).toBeGreaterThanOrEqual(lastLen);
      expect(text).not.toBe(f.alternatives[0]!.text);
      lastLen = text.length;
    }
  }
}

// ---- tests ------------------------------------------------------------------

describe('RTZR emulator: authenticate', () => {
  it('issues a token (200) with expire_at in unix seconds, 6 h by default', async () => {
    const e = await start();
    const { status, json } = await authenticate(e);
    expect(status).toBe(200);
    expect(json.access_token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const expireAt = json.expire_at as number;
    expect(Number.isInteger(expireAt)).toBe(true);
    expect(Math.abs(expireAt - (Date.now() / 1000 + 21600))).toBeLessThan(5);
    expect(e.counters.authRequests).toBe(1);
    expect(e.counters.tokensIssued).toBe(1);
  });

  it('400 H0001 on a missing field or a non-form body, 401 H0002 on bad credentials, 404 elsewhere', async () => {
    const e = await start({ credentials: { clientId: 'id', clientSecret: 'secret' } });
    expect(await authenticate(e, 'client_id=id')).toMatchObject({ status: 400, json: { code: 'H0001' } });
    expect(await authenticate(e, JSON.stringify({ client_id: 'id', client_secret: 'secret' }), 'application/json')).toMatchObject({
      status: 400,
      json: { code: 'H0001' },
    });
    expect(await authenticate(e, 'client_id=id&client_secret=nope')).toEqual({
      status: 401,
      json: { code: 'H0002', msg: 'invalid credential' },
    });
    expect((await authenticate(e, 'client_id=id&client_secret=secret')).status).toBe(200);
    const res = await fetch(`${e.apiBase}/v1/nothing`);
    expect(res.status).toBe(404);
    await res.body?.cancel();
    expect(e.counters.authRequests).toBe(4);
    expect(e.counters.authFailures).toBe(3);
  });

  it('tokens expire after tokenLifetimeSec', async () => {
    vi.useFakeTimers({ toFake: ['Date'] }); // the emulator's token clock; sockets and timers stay real
    const e = await start({ tokenLifetimeSec: 2 });
    const { json } = await authenticate(e);
    const expireAt = json.expire_at as number;
    expect(expireAt).toBeGreaterThan(Date.now() / 1000);
    expect(expireAt).toBeLessThanOrEqual(Date.now() / 1000 + 2);
    const t = json.access_token as string;
    const ok = await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` });
    expect(ok.kind).toBe('open');
    if (ok.kind === 'open') ok.ws.close();
    vi.setSystemTime(Date.now() + 2100);
    const late = await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` });
    expect(late).toMatchObject({ kind: 'rejected', status: 401, body: { code: 'H0002' } });
  });
});

describe('RTZR emulator: handshake', () => {
  it('401 H0002 without a token or with an unknown one; the bearer scheme is case-insensitive', async () => {
    const e = await start();
    expect(await tryConnect(streamUrl(e))).toMatchObject({ kind: 'rejected', status: 401, body: { code: 'H0002' } });
    expect(await tryConnect(streamUrl(e), { Authorization: 'Bearer not-a-token' })).toMatchObject({
      kind: 'rejected',
      status: 401,
      body: { code: 'H0002' },
    });
    const t = await token(e);
    const lower = await tryConnect(streamUrl(e), { Authorization: `bearer ${t}` });
    expect(lower.kind).toBe('open');
    expect(e.counters.rejectedConnections).toBe(2);
  });

  it('400 H0001 on invalid parameters; unknown parameters are ignored', async () => {
    const e = await start();
    const t = await token(e);
    const auth = { Authorization: `Bearer ${t}` };
    const bad = [
      'encoding=MULAW',
      'sample_rate=7999&encoding=MULAW',
      'sample_rate=48001&encoding=LINEAR16',
      'sample_rate=8000.5&encoding=LINEAR16',
      'sample_rate=8000',
      'sample_rate=8000&encoding=PCM',
      'sample_rate=8000&encoding=MULAW&model_name=gpt',
      'sample_rate=8000&encoding=MULAW&domain=GENERAL',
      'sample_rate=8000&encoding=MULAW&use_itn=yes',
      'sample_rate=8000&encoding=MULAW&use_punctuation=1',
      'sample_rate=8000&encoding=MULAW&epd_time=0',
      'sample_rate=8000&encoding=MULAW&max_utter_duration=1.5',
      'sample_rate=8000&encoding=MULAW&keywords=' + encodeURIComponent('리턴제로:9'),
      'sample_rate=8000&encoding=MULAW&keywords=' + 'a'.repeat(21),
      'sample_rate=8000&encoding=MULAW&keywords=' + Array.from({ length: 101 }, (_, i) => `w${i}`).join(','),
    ];
    for (const q of bad) {
      const out = await tryConnect(streamUrl(e, q), auth);
      expect(out, q).toMatchObject({ kind: 'rejected', status: 400, body: { code: 'H0001' } });
    }
    const flac = await tryConnect(streamUrl(e, 'sample_rate=16000&encoding=FLAC'), auth);
    expect(flac).toMatchObject({ kind: 'rejected', status: 400, body: { code: 'H0001' } });
    if (flac.kind === 'rejected') expect(flac.body.msg).toMatch(/emulator does not decode/);

    const good =
      'sample_rate=16000&encoding=LINEAR16&model_name=sommers_ko&domain=MEETING&use_itn=false&use_disfluency_filter=true' +
      '&use_profanity_filter=false&use_punctuation=true&epd_time=0.8&max_utter_duration=10&noise_threshold=0.6' +
      '&active_threshold=0.8&language=ko&whatever=1&keywords=' +
      encodeURIComponent('리턴제로:3.5,상담원,보험:-2');
    const ok = await tryConnect(streamUrl(e, good), auth);
    expect(ok.kind).toBe('open');
  });

  it('429 A0002 beyond maxConcurrent, accepted again once a channel frees up', async () => {
    const e = await start({ maxConcurrent: 2 });
    const a = await connect(e);
    await connect(e);
    const t = await token(e);
    expect(await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` })).toEqual({
      kind: 'rejected',
      status: 429,
      body: { code: 'A0002', msg: 'Too many concurrent requests' },
    });
    a.ws.close();
    await a.closed;
    await waitFor(() => e.counters.openConnections === 1);
    expect((await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` })).kind).toBe('open');
    expect(e.counters.connections).toBe(3);
  });
});

describe('RTZR emulator: recognition', () => {
  it('recognises the 8 kHz mu-law call: 4 scripted finals, growing partials, words, close 1000 after EOS', async () => {
    const e = await start({ script: SCRIPT });
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160); // 20 ms frames
    c.ws.send('EOS');
    expect(await c.closed).toBe(1000);
    expectCallResults(c.results);
    expect(e.counters.finalsSent).toBe(4);
    expect(e.counters.messagesSent).toBe(c.raw.length);
    expect(e.counters.audioBytes).toBe(MULAW_8K.length);
    expect(e.counters.framesReceived).toBe(Math.ceil(MULAW_8K.length / 160));
    await waitFor(() => e.connectionsLog[0]?.closeCode !== undefined);
    const log = e.connectionsLog[0]!;
    expect(log).toMatchObject({ id: 1, query: { sample_rate: '8000', encoding: 'MULAW' }, closeCode: 1000 });
    expect(log.audioMs).toBeCloseTo((MULAW_8K.length / 8000) * 1000, 0);
    expect(e.counters.openConnections).toBe(0);
  });

  it('recognises the 16 kHz LINEAR16 call, with odd-sized frames carried across', async () => {
    const e = await start({ script: SCRIPT });
    const c = await connect(e, 'sample_rate=16000&encoding=LINEAR16');
    sendAudio(c.ws, LINEAR16_16K, 641);
    c.ws.send('EOS');
    expect(await c.closed).toBe(1000);
    expectCallResults(c.results);
  });

  it('restarts the script on each connection; utterances beyond it are "(unscripted)"; scriptFor overrides', async () => {
    const e = await start({
      script: SCRIPT.slice(0, 2),
      scriptFor: ({ query }) => (query.get('call') === 'b' ? ['하나', '둘', '셋', '넷'] : undefined),
    });
    for (let round = 0; round < 2; round++) {
      const c = await connect(e);
      sendAudio(c.ws, MULAW_8K, 800);
      c.ws.send('EOS');
      await c.closed;
      expect(finals(c).map((f) => f.alternatives[0]!.text)).toEqual([SCRIPT[0], SCRIPT[1], '(unscripted)', '(unscripted)']);
    }
    const b = await connect(e, `${MULAW_QUERY}&call=b`);
    sendAudio(b.ws, MULAW_8K, 800);
    b.ws.send('EOS');
    await b.closed;
    expect(finals(b).map((f) => f.alternatives[0]!.text)).toEqual(['하나', '둘', '셋', '넷']);
  });

  it('epd_time and max_utter_duration drive the endpointer', async () => {
    const e = await start({ script: SCRIPT });
    const merged = await connect(e, `${MULAW_QUERY}&epd_time=1.6`);
    sendAudio(merged.ws, MULAW_8K, 800);
    merged.ws.send('EOS');
    await merged.closed;
    expect(finals(merged)).toHaveLength(1);
    const split = await connect(e, `${MULAW_QUERY}&max_utter_duration=1`);
    sendAudio(split.ws, MULAW_8K, 800);
    split.ws.send('EOS');
    await split.closed;
    const f = finals(split);
    expect(f).toHaveLength(5); // the 1.8 s first utterance is split in two
    for (const r of f) expect(r.duration).toBeLessThanOrEqual(1000);
    expect(f.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('Finalize mid-utterance sends the final early and keeps the socket open; Finalize with nothing pending sends nothing', async () => {
    const e = await start({ script: SCRIPT });
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160, 0, 1500 * 8); // 1.5 s: inside the first utterance (0.8-2.59 s)
    c.ws.send(JSON.stringify({ type: 'Finalize' }));
    await waitFor(() => finals(c).length === 1);
    const f = finals(c)[0]!;
    expect(f.seq).toBe(0);
    expect(f.alternatives[0]!.text).toBe(SCRIPT[0]);
    expect(Math.abs(f.start_at - 800)).toBeLessThanOrEqual(300);
    expect(f.start_at + f.duration).toBeLessThanOrEqual(1500);
    expect(f.start_at + f.duration).toBeGreaterThan(1300);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // continue through the first gap, finalize again: nothing pending after the automatic final
    sendAudio(c.ws, MULAW_8K, 160, 1500 * 8, 3500 * 8);
    await waitFor(() => finals(c).length === 2); // rest of the first utterance, by EPD
    const before = c.raw.length;
    c.ws.send(JSON.stringify({ type: 'Finalize' }));
    c.ws.send('hello'); // ignored
    await settled(c.ws);
    expect(c.raw.length).toBe(before);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    sendAudio(c.ws, MULAW_8K, 160, 3500 * 8);
    c.ws.send('EOS');
    expect(await c.closed).toBe(1000);
    expect(finals(c).map((r) => r.seq)).toEqual([0, 1, 2, 3, 4]);
  });

  it('processingMs delays finals but keeps them in seq order; EOS closes after the last one', async () => {
    const e = await start({ script: SCRIPT, latency: { processingMs: 80 } });
    const c = await connect(e);
    const t0 = Date.now();
    sendAudio(c.ws, MULAW_8K, 160);
    c.ws.send('EOS');
    expect(await c.closed).toBe(1000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
    expectCallResults(c.results);
    e.setLatency({ processingMs: 0 });
  });

  it('finals stay in seq order when processingMs is lowered while one is pending', async () => {
    const e = await start({ script: SCRIPT, latency: { processingMs: 300 } });
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160, 0, 3200 * 8); // first final decided (~3.1 s), due in 300 ms
    await waitFor(() => e.counters.audioBytes === 3200 * 8);
    e.setLatency({ processingMs: 0 });
    sendAudio(c.ws, MULAW_8K, 160, 3200 * 8);
    c.ws.send('EOS');
    expect(await c.closed).toBe(1000);
    expect(finals(c).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
  });

  it('authMs and connectMs delay authentication and the upgrade', async () => {
    const e = await start({ latency: { authMs: 150, connectMs: 150 } });
    let t0 = Date.now();
    const t = await token(e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    t0 = Date.now();
    const out = await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` });
    expect(out.kind).toBe('open');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    e.setLatency({ authMs: 0 });
    t0 = Date.now();
    await token(e);
    expect(Date.now() - t0).toBeLessThan(140);
    expect(() => e.setLatency({ processingMs: -1 })).toThrow();
  });
});

describe('RTZR emulator: faults', () => {
  it('failAuth(status, times) fails the next N authenticate requests', async () => {
    const e = await start();
    e.faults.failAuth(500);
    expect(await authenticate(e)).toEqual({ status: 500, json: { code: 'E500', msg: 'internal server error' } });
    expect((await authenticate(e)).status).toBe(200);
    e.faults.failAuth(401, 2);
    expect(await authenticate(e)).toMatchObject({ status: 401, json: { code: 'H0002' } });
    expect(await authenticate(e)).toMatchObject({ status: 401, json: { code: 'H0002' } });
    e.faults.failAuth(400);
    expect(await authenticate(e)).toMatchObject({ status: 400, json: { code: 'H0001' } });
    expect((await authenticate(e)).status).toBe(200);
    expect(e.counters.authFailures).toBe(4);
  });

  it('hangAuth never answers, so the client timeout fires; the next request works', async () => {
    const e = await start();
    e.faults.hangAuth();
    await expect(authenticate(e, undefined, undefined, AbortSignal.timeout(200))).rejects.toThrow();
    expect((await authenticate(e)).status).toBe(200);
    e.faults.hangAuth();
    const pending = authenticate(e).catch((err: unknown) => err);
    await waitFor(() => e.counters.authRequests === 3);
    await e.close(); // a hanging request is released by close()
    expect(await pending).toBeInstanceOf(Error);
  });

  it('expireTokens invalidates every token issued so far', async () => {
    const e = await start();
    const old = await token(e);
    e.faults.expireTokens();
    expect(await tryConnect(streamUrl(e), { Authorization: `Bearer ${old}` })).toMatchObject({
      kind: 'rejected',
      status: 401,
      body: { code: 'H0002' },
    });
    const fresh = await token(e);
    expect((await tryConnect(streamUrl(e), { Authorization: `Bearer ${fresh}` })).kind).toBe('open');
  });

  it('rejectConnections(status, times) rejects the next N upgrades with an RTZR-style body', async () => {
    const e = await start();
    const t = await token(e);
    const auth = { Authorization: `Bearer ${t}` };
    e.faults.rejectConnections(503);
    e.faults.rejectConnections(429, 2);
    expect(await tryConnect(streamUrl(e), auth)).toMatchObject({ kind: 'rejected', status: 503, body: { code: 'E503' } });
    expect(await tryConnect(streamUrl(e), auth)).toMatchObject({ kind: 'rejected', status: 429, body: { code: 'A0002' } });
    expect(await tryConnect(streamUrl(e), auth)).toMatchObject({ kind: 'rejected', status: 429, body: { code: 'A0002' } });
    e.faults.rejectConnections(401);
    expect(await tryConnect(streamUrl(e), auth)).toMatchObject({ kind: 'rejected', status: 401, body: { code: 'H0002' } });
    e.faults.rejectConnections(500);
    expect(await tryConnect(streamUrl(e), auth)).toMatchObject({ kind: 'rejected', status: 500, body: { code: 'E500' } });
    expect((await tryConnect(streamUrl(e), auth)).kind).toBe('open');
    expect(e.counters.rejectedConnections).toBe(5);
  });

  it('refuseConnections destroys the socket without any HTTP response', async () => {
    const e = await start();
    const t = await token(e);
    e.faults.refuseConnections();
    const out = await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` });
    expect(out.kind).toBe('error');
    if (out.kind === 'error') expect(out.error.message).toMatch(/socket hang up|ECONNRESET/);
    expect((await tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` })).kind).toBe('open');
  });

  it('dropAfterAudioMs terminates the next connection once it has received that much audio (no close frame)', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.dropAfterAudioMs(3500);
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160);
    expect(await c.closed).toBe(1006);
    await waitFor(() => e.connectionsLog[0]?.closeCode !== undefined);
    const log = e.connectionsLog[0]!;
    expect(log.audioMs).toBeGreaterThanOrEqual(3500);
    expect(log.audioMs).toBeLessThan(3600);
    expect(finals(c)).toHaveLength(1); // only the first utterance ended (at ~3.1 s) before the drop
    // the fault is consumed: the next call runs to the end
    const d = await connect(e);
    sendAudio(d.ws, MULAW_8K, 160);
    d.ws.send('EOS');
    expect(await d.closed).toBe(1000);
  });

  it('dropAll terminates every open connection now', async () => {
    const e = await start();
    const a = await connect(e);
    const b = await connect(e);
    e.faults.dropAll();
    expect(await a.closed).toBe(1006);
    expect(await b.closed).toBe(1006);
    await waitFor(() => e.counters.openConnections === 0);
  });

  it('stall withholds every result (audio still accepted) and EOS does not close', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.stall();
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160);
    c.ws.send('EOS');
    await settled(c.ws); // every frame handled, and the socket still open
    expect(e.counters.audioBytes).toBe(MULAW_8K.length);
    expect(c.raw).toEqual([]);
    e.faults.stall(false);
    const d = await connect(e);
    sendAudio(d.ws, MULAW_8K, 160);
    d.ws.send('EOS');
    expect(await d.closed).toBe(1000);
    expect(finals(d)).toHaveLength(4);
  });

  it('sendMalformed sends an invalid JSON frame instead of the next result', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.sendMalformed();
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160);
    c.ws.send('EOS');
    await c.closed;
    expect(() => JSON.parse(c.raw[0]!) as unknown).toThrow(SyntaxError);
    expect(c.raw.slice(1).every((m) => JSON.parse(m) !== null)).toBe(true);
  });

  it('sendErrorFrame replaces the next result with an error frame', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.sendErrorFrame(2);
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160);
    c.ws.send('EOS');
    await c.closed;
    expect(c.raw.slice(0, 2).map((m) => JSON.parse(m) as unknown)).toEqual([
      { type: 'error', message: 'emulated server error' },
      { type: 'error', message: 'emulated server error' },
    ]);
    expect(finals(c)).toHaveLength(4);
  });

  it('stallAfterAudioMs: the next connection goes silent mid-call but keeps answering pings; the one after is served', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.stallAfterAudioMs(3500);
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160);
    c.ws.send('EOS');
    await settled(c.ws); // pings answered, the socket stays open after EOS
    expect(e.counters.audioBytes).toBe(MULAW_8K.length); // audio still accepted
    expect(finals(c).map((r) => r.alternatives[0]!.text)).toEqual([SCRIPT[0]]); // only what ended before 3.5 s
    const d = await connect(e); // the fault is consumed
    sendAudio(d.ws, MULAW_8K, 160);
    d.ws.send('EOS');
    expect(await d.closed).toBe(1000);
    expect(finals(d)).toHaveLength(4);
  });

  it('stallAfterEos: the next connection to receive EOS sends no remaining final and never closes', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.stallAfterEos();
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160, 0, 9300 * 8); // the last utterance's final is still pending at EOS
    await waitFor(() => finals(c).length === 3);
    c.ws.send('EOS');
    await settled(c.ws);
    expect(finals(c)).toHaveLength(3);
    const d = await connect(e);
    sendAudio(d.ws, MULAW_8K, 160, 0, 9300 * 8);
    d.ws.send('EOS');
    expect(await d.closed).toBe(1000);
    expect(finals(d)).toHaveLength(4);
  });

  it('rejectConnections(429, times, { retryAfterSec }) sends Retry-After', async () => {
    const e = await start();
    const t = await token(e);
    e.faults.rejectConnections(429, 1, { retryAfterSec: 2 });
    const headers = await new Promise<Record<string, unknown>>((resolve) => {
      const ws = new WebSocket(streamUrl(e), { headers: { Authorization: `Bearer ${t}` } });
      sockets.push(ws);
      ws.on('error', () => undefined);
      ws.on('unexpected-response', (req, res) => {
        resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] });
        req.destroy();
      });
    });
    expect(headers).toEqual({ status: 429, retryAfter: '2' });
    expect(() => e.faults.rejectConnections(429, 1, { retryAfterSec: -1 })).toThrow(/retryAfterSec/);
  });

  it('noCloseAfterEos sends the remaining finals but never closes; reset() clears faults', async () => {
    const e = await start({ script: SCRIPT });
    e.faults.noCloseAfterEos();
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160, 0, 9300 * 8); // EOS while the last utterance's silence is pending
    c.ws.send('EOS');
    await waitFor(() => finals(c).length === 4);
    await settled(c.ws); // a close after the last final would have arrived before the pong
    e.faults.failAuth(500, 5);
    e.faults.stall();
    e.faults.reset();
    expect((await authenticate(e)).status).toBe(200);
    const d = await connect(e);
    sendAudio(d.ws, MULAW_8K, 160);
    d.ws.send('EOS');
    expect(await d.closed).toBe(1000);
    expect(finals(d)).toHaveLength(4);
  });
});

describe('RTZR emulator: lifecycle', () => {
  it('close() terminates sockets, clears timers, is idempotent', async () => {
    const e = await start({ script: SCRIPT, latency: { processingMs: 10_000, connectMs: 0 } });
    const c = await connect(e);
    sendAudio(c.ws, MULAW_8K, 160); // finals pending behind a 10 s processing timer
    c.ws.send('EOS');
    await waitFor(() => e.counters.audioBytes === MULAW_8K.length);
    e.setLatency({ connectMs: 10_000 });
    const t = await token(e);
    const slow = tryConnect(streamUrl(e), { Authorization: `Bearer ${t}` }); // held by connectMs
    await sleep(50);
    await Promise.all([e.close(), e.close()]);
    await e.close();
    expect(await c.closed).toBe(1006);
    expect((await slow).kind).toBe('error');
    expect(e.counters.openConnections).toBe(0);
  });

  it('connectionsLog records the client close code and times', async () => {
    const e = await start();
    const t = await token(e);
    expect(e.connectionsLog).toEqual([]);
    const c = await connect(e, MULAW_QUERY, t);
    c.ws.close(4001);
    await c.closed;
    await waitFor(() => e.connectionsLog[0]?.closeCode === 4001);
    expect(e.connectionsLog[0]!.closedAt).toBeGreaterThanOrEqual(e.connectionsLog[0]!.openedAt);
  });

  it('validates options', async () => {
    await expect(startRtzrEmulator({ tokenLifetimeSec: 0 })).rejects.toThrow(/tokenLifetimeSec/);
    await expect(startRtzrEmulator({ latency: { partialIntervalMs: 0 } })).rejects.toThrow(/partialIntervalMs/);
    await expect(startRtzrEmulator({ maxConcurrent: -1 })).rejects.toThrow(/maxConcurrent/);
    await expect(startRtzrEmulator({ port: 70_000 })).rejects.toThrow(/port/);
  });

  it('port: a restarted emulator listens where its clients expect it (a server restart)', async () => {
    const first = await start();
    const { port } = new URL(first.apiBase);
    await first.close();
    const again = await start({ port: Number(port) });
    expect(again.apiBase).toBe(first.apiBase);
    expect((await authenticate(again)).status).toBe(200);
  });
});
