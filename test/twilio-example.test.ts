/**
 * The Twilio Media Streams example server (examples/twilio/server.ts), driven end to end with
 * real sockets: simulated Twilio calls → the server → one StreamingRecognizer → the RTZR emulator.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfig } from '../examples/twilio/main.js';
import { startTwilioServer, type CallRecord, type TwilioServer, type TwilioServerOptions } from '../examples/twilio/server.js';
import { ConnectionError, RtzrProvider, StateError, StreamingRecognizer, type Logger } from '../src/index.js';
import { simulateTwilioCall, startRtzrEmulator, twilioSignature, type RtzrEmulator } from '../src/testing/index.js';
import { script } from './helpers/sample-call.js';

const AUDIO_8K = readFileSync(new URL('../examples/audio/call-ko-8k-mulaw.wav', import.meta.url));
const AUDIO_16K = readFileSync(new URL('../examples/audio/call-ko-16k-linear16.wav', import.meta.url));
/** A second caller: same audio timings, different words (the emulator's per-connection script). */
const SCRIPT_B = ['여보세요 배송 조회 좀 하려고요', '주문 번호 불러 드릴게요', '네 맞습니다', '감사합니다'];

const AUTH_TOKEN = 'twilio-test-auth-token-00000000';
const PUBLIC = 'https://stt.example.test';

interface Line {
  level: keyof Logger;
  message: string;
  fields?: Record<string, unknown>;
}

function captureLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: keyof Logger) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

let emulator: RtzrEmulator | undefined;
let server: TwilioServer | undefined;
let recognizer: StreamingRecognizer | undefined;

afterEach(async () => {
  await server?.close();
  await recognizer?.close();
  await emulator?.close();
  server = undefined;
  recognizer = undefined;
  emulator = undefined;
});

/**
 * Emulator + a shared recognizer + the example server. The emulator's connection `n` (1-based) gets
 * `scripts[n - 1]`, else the sample call's script.
 */
async function setup(options: Partial<TwilioServerOptions> = {}, scripts: string[][] = []) {
  emulator = await startRtzrEmulator({ scriptFor: ({ connectionId }) => scripts[connectionId - 1] ?? script });
  recognizer = new StreamingRecognizer({
    providers: [
      new RtzrProvider({
        apiBase: emulator.apiBase,
        clientId: emulator.credentials.clientId,
        clientSecret: emulator.credentials.clientSecret,
      }),
    ],
  });
  const logger = captureLogger();
  server = await startTwilioServer({ recognizer, port: 0, host: '127.0.0.1', logger, ...options });
  return { server, emulator, recognizer, logger };
}

function nextEnd(s: TwilioServer, callSid?: string): Promise<CallRecord> {
  return new Promise((resolve) => {
    const on = (r: CallRecord): void => {
      if (callSid && r.callSid !== callSid) return;
      s.off('call-end', on);
      resolve(r);
    };
    s.on('call-end', on);
  });
}

const texts = (r: CallRecord | undefined): string[] => (r?.summary?.transcripts ?? []).map((t) => t.text);

describe('Twilio example: end to end', () => {
  it('two simultaneous calls each get exactly their own finals, in order, through one recognizer', async () => {
    const started = performance.now();
    const { server, emulator, recognizer } = await setup({}, [script, SCRIPT_B]);
    const finals = new Map<string, string[]>();
    server.on('final', ({ callSid, transcript }) => finals.set(callSid, [...(finals.get(callSid) ?? []), transcript.text]));
    const openA = new Promise((r) => server.once('call-open', r));

    const a = simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 4, callSid: 'CA' + 'a'.repeat(32) });
    // Start B once A's recognition connection is open, so the emulator's connection 2 is B's.
    await openA;
    const b = simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_16K, speed: 4, callSid: 'CA' + 'b'.repeat(32) });
    const [ra, rb] = await Promise.all([a, b]);

    expect(ra.close).toMatchObject({ code: 1000, initiatedBy: 'server' });
    expect(rb.close).toMatchObject({ code: 1000, initiatedBy: 'server' });
    // Both calls were in flight together.
    expect(emulator.connectionsLog[1]!.openedAt).toBeLessThan(emulator.connectionsLog[0]!.closedAt!);

    expect(finals.get(ra.callSid)).toEqual(script);
    expect(finals.get(rb.callSid)).toEqual(SCRIPT_B);
    const recA = server.recentCalls.find((r) => r.callSid === ra.callSid);
    const recB = server.recentCalls.find((r) => r.callSid === rb.callSid);
    expect(recA).toMatchObject({ outcome: 'completed', streamSid: ra.streamSid, ignoredMessages: 0 });
    expect(recB).toMatchObject({ outcome: 'completed', streamSid: rb.streamSid, ignoredMessages: 0 });
    expect(texts(recA)).toEqual(script);
    expect(texts(recB)).toEqual(SCRIPT_B);
    for (const r of [recA!, recB!]) {
      expect(r.summary!.error).toBeUndefined();
      expect(r.summary!.transcripts.map((t) => t.utteranceId)).toEqual([0, 1, 2, 3]);
      for (const t of r.summary!.transcripts) expect(t.latencyMs!).toBeLessThanOrEqual(performance.now() - started);
      expect(Math.abs(r.summary!.audioMs - 10139)).toBeLessThanOrEqual(20);
    }
    // One recognizer: one token for both calls, one socket per call, nothing left open.
    expect(emulator.counters.authRequests).toBe(1);
    expect(emulator.counters.connections).toBe(2);
    expect(recognizer.openStreams).toBe(0);
    expect(server.stats).toMatchObject({ callsStarted: 2, callsEnded: 2, callsActive: 0, clearsSent: 0 });
    expect(ra.received.clears).toEqual([]); // barge-in is off by default
  });

  it('logs partials and finals with the callSid and latency, and a call summary', async () => {
    const { server, logger } = await setup();
    const result = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 0, customParameters: { from: '+821012345678' } });
    const ofCall = logger.lines.filter((l) => l.fields?.callSid === result.callSid);
    const finals = ofCall.filter((l) => l.message.includes(' final #'));
    expect(finals.map((l) => l.fields!.text)).toEqual(script);
    for (const [i, l] of finals.entries()) {
      expect(l.message).toMatch(new RegExp(`final #${i} \\(\\d+ ms\\): ${script[i]}$`));
      expect(typeof l.fields!.latencyMs).toBe('number');
    }
    expect(ofCall.some((l) => l.message.includes(' partial #0: '))).toBe(true);
    const summary = ofCall.find((l) => l.message.includes('call completed'));
    expect(summary?.fields).toMatchObject({ outcome: 'completed', finals: 4, text: script.join(' ') });
    // The caller's number is masked.
    const started = ofCall.find((l) => l.message.includes('call started'))!;
    expect(started.message).toContain('from=+8210****5678');
    expect(logger.lines.some((l) => l.message.includes('+821012345678'))).toBe(false);
  });
});

describe('Twilio example: signature validation', () => {
  it('webhook: a valid signature gets <Connect><Stream> TwiML with per-call <Parameter>s', async () => {
    const { server } = await setup({ authToken: AUTH_TOKEN, publicUrl: PUBLIC });
    const params = { CallSid: 'CA' + '1'.repeat(32), From: '+821012345678', To: '+8225551234', AccountSid: 'AC' + '2'.repeat(32) };
    const res = await fetch(`${server.url}/twiml`, {
      method: 'POST',
      headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, `${PUBLIC}/twiml`, params) },
      body: new URLSearchParams(params),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml');
    expect(await res.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://stt.example.test/media-stream">' +
        '<Parameter name="from" value="+821012345678"/><Parameter name="to" value="+8225551234"/></Stream></Connect></Response>',
    );
    expect(server.stats).toMatchObject({ webhooks: 1, webhooksRejected: 0 });
  });

  it('webhook: tampered, missing or wrongly signed requests get 403', async () => {
    const { server, emulator } = await setup({ authToken: AUTH_TOKEN, publicUrl: PUBLIC });
    const params = { CallSid: 'CA' + '1'.repeat(32), From: '+821012345678' };
    const good = twilioSignature(AUTH_TOKEN, `${PUBLIC}/twiml`, params);
    const attempts: [string, Record<string, string>, string | undefined][] = [
      ['tampered body', { ...params, From: '+821099999999' }, good],
      ['missing signature', params, undefined],
      ['other token', params, twilioSignature('another-token', `${PUBLIC}/twiml`, params)],
      ['other URL (the local one)', params, twilioSignature(AUTH_TOKEN, `${server.url}/twiml`, params)],
    ];
    for (const [name, body, sig] of attempts) {
      const res = await fetch(`${server.url}/twiml`, {
        method: 'POST',
        headers: sig ? { 'x-twilio-signature': sig } : {},
        body: new URLSearchParams(body),
      });
      expect(res.status, name).toBe(403);
      expect(await res.text()).not.toContain('<Response>');
    }
    expect(server.stats.webhooksRejected).toBe(4);
    expect(emulator.counters.connections + emulator.counters.authRequests).toBe(0);
  });

  it('WebSocket handshake: valid signature streams; tampered and missing get 403 and never reach the recognizer', async () => {
    const { server, emulator, recognizer } = await setup({ authToken: AUTH_TOKEN, publicUrl: PUBLIC });
    let streamsOpened = 0;
    server.on('call-start', () => streamsOpened++);
    const signedFor = `wss://stt.example.test/media-stream`;
    for (const signature of [undefined, { authToken: 'wrong-token', url: signedFor }, { authToken: AUTH_TOKEN, url: 'wss://evil.example/media-stream' }]) {
      const err = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 0, signature }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).status).toBe(403);
    }
    expect(server.stats.handshakesRejected).toBe(3);
    expect(streamsOpened).toBe(0);
    expect(recognizer.openStreams).toBe(0);
    expect(emulator.counters.connections + emulator.counters.authRequests).toBe(0);

    const ok = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 0, signature: { authToken: AUTH_TOKEN, url: signedFor } });
    expect(texts(server.recentCalls.find((r) => r.callSid === ok.callSid))).toEqual(script);
    expect(emulator.counters.connections).toBe(1);
  });

  it('refuses to start with an auth token but no public URL (signatures cover the public URL)', async () => {
    await expect(startTwilioServer({ authToken: AUTH_TOKEN, port: 0, providers: [] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(startTwilioServer({ publicUrl: 'https://x.test/some/path', port: 0, providers: [] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('answers other routes sensibly: 405 for GET /twiml, 404 elsewhere, 415 for a non-form body', async () => {
    const { server } = await setup();
    expect((await fetch(`${server.url}/twiml`)).status).toBe(405);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/twiml`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(415);
    const err = await simulateTwilioCall({ url: server.mediaStreamUrl.replace('/media-stream', '/other'), audio: AUDIO_8K }).catch((e: unknown) => e);
    expect((err as ConnectionError).status).toBe(404);
    // Without PUBLIC_URL the TwiML points at the Host the request came to.
    const res = await fetch(`${server.url}/twiml`, { method: 'POST', body: new URLSearchParams({ CallSid: 'CA1' }) });
    const twiml = await res.text();
    expect(twiml).toContain(`<Stream url="${server.mediaStreamUrl}"/>`);
  });
});

describe('Twilio example: robustness', () => {
  it('logs and ignores malformed messages without ending the call or the server', async () => {
    const { server, logger } = await setup();
    const streamSid = 'MZ' + 'c'.repeat(32);
    const media = (payload: string, sid = streamSid): string =>
      JSON.stringify({ event: 'media', streamSid: sid, media: { track: 'inbound', chunk: '1', timestamp: '0', payload } });
    const result = await simulateTwilioCall({
      url: server.mediaStreamUrl,
      audio: AUDIO_8K,
      speed: 0,
      streamSid,
      events: [
        { atMs: -1, raw: media(Buffer.alloc(160, 0xff).toString('base64')) }, // media before start
        { atMs: 500, raw: 'this is not JSON' },
        { atMs: 1000, raw: JSON.stringify({ event: 'transcribe-please', streamSid }) },
        { atMs: 1500, raw: media('@@not base64@@') },
        { atMs: 2000, raw: new Uint8Array([0xff, 0xfe]) },
        { atMs: 2500, raw: media(Buffer.alloc(160, 0xff).toString('base64'), 'MZ' + 'd'.repeat(32)) },
        { atMs: 3000, raw: JSON.stringify({ event: 'start', streamSid, start: { callSid: 'CA' + 'e'.repeat(32) } }) },
        { atMs: 3500, raw: '[1,2,3]' },
        { atMs: 4000, dtmf: '7' },
      ],
    });
    const rec = server.recentCalls.find((r) => r.callSid === result.callSid)!;
    expect(rec.outcome).toBe('completed');
    expect(texts(rec)).toEqual(script);
    expect(rec.ignoredMessages).toBe(8);
    const reasons = logger.lines.filter((l) => l.level === 'warn' && l.message.includes('ignored a message')).map((l) => l.fields!.reason);
    expect(reasons).toEqual([
      'media before start',
      'not JSON',
      'unknown event "transcribe-please"',
      'media.payload is not base64',
      'binary frame (Twilio sends JSON text frames)',
      `media for another stream (MZ…dddddd)`,
      'a second start',
      'not a JSON object',
    ]);
    expect(logger.lines.some((l) => l.message.includes('DTMF 7'))).toBe(true);
    // The server still takes calls.
    const again = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 0 });
    expect(texts(server.recentCalls.find((r) => r.callSid === again.callSid))).toEqual(script);
  });

  it('a socket closed without stop aborts the stream and releases its provider connection', async () => {
    const { server, emulator, recognizer } = await setup();
    const ended = nextEnd(server);
    const result = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 0, sendStop: false });
    const rec = await ended;
    expect(rec.callSid).toBe(result.callSid);
    expect(rec.outcome).toBe('aborted');
    expect(rec.summary?.error?.code).toBe('ABORTED');
    expect(recognizer.openStreams).toBe(0);
    await until(() => emulator.counters.openConnections === 0);
  });

  it('barge-in: sends Twilio a clear for the call\'s stream each time the caller starts speaking', async () => {
    const { server } = await setup({ bargeIn: true });
    const order: string[] = [];
    server.on('clear', ({ utteranceId }) => order.push(`clear ${utteranceId}`));
    server.on('partial', ({ transcript }) => {
      if (!order.includes(`partial ${transcript.utteranceId}`)) order.push(`partial ${transcript.utteranceId}`);
    });
    const result = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 4 });
    expect(result.received.clears.map((c) => c.streamSid)).toEqual([result.streamSid, result.streamSid, result.streamSid, result.streamSid]);
    expect(result.received.invalid).toEqual([]); // every message is one Twilio accepts
    // The clear goes out on speechstart, before the utterance's first partial is even reported.
    expect(order).toEqual(['clear 0', 'partial 0', 'clear 1', 'partial 1', 'clear 2', 'partial 2', 'clear 3', 'partial 3']);
    expect(server.stats.clearsSent).toBe(4);
  });

  it('a connection that never sends start is closed after startTimeoutMs', async () => {
    const { server, recognizer } = await setup({ startTimeoutMs: 50 });
    const { WebSocket } = await import('ws');
    const ws = new WebSocket(server.mediaStreamUrl);
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1008);
    expect(recognizer.openStreams).toBe(0);
  });
});

describe('Twilio example: graceful shutdown', () => {
  it('close() ends open calls (their last finals still arrive), closes their sockets with 1001, then stops', async () => {
    const { server, recognizer } = await setup();
    const firstFinal = new Promise((r) => server.once('final', r));
    const call = simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K, speed: 2 });
    await firstFinal;
    const ended = nextEnd(server);
    await server.close();
    const rec = await ended;
    const result = await call;
    expect(rec.outcome).toBe('completed');
    expect(rec.summary?.error).toBeUndefined();
    expect(texts(rec).length).toBeGreaterThanOrEqual(1);
    expect(texts(rec)).toEqual(script.slice(0, texts(rec).length));
    expect(result.close).toMatchObject({ code: 1001, initiatedBy: 'server' });
    expect(result.sent.stop).toBe(false);
    expect(recognizer.openStreams).toBe(0);
    const err = await simulateTwilioCall({ url: server.mediaStreamUrl, audio: AUDIO_8K }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
  });

  it('closes a recognizer it created, not a shared one', async () => {
    const { recognizer } = await setup();
    await server!.close();
    expect(() => recognizer.stream()).not.toThrow();
    recognizer.stream().abort();
    const owned = await startTwilioServer({
      providers: [new RtzrProvider({ apiBase: emulator!.apiBase, clientId: 'x', clientSecret: 'y' })],
      port: 0,
      host: '127.0.0.1',
      logger: captureLogger(),
    });
    await owned.close();
    expect(() => owned.recognizer.stream()).toThrow(StateError);
  });

  it('SIGTERM: `npx tsx examples/twilio/server.ts` drains the open call, logs its summary and exits 0', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_FORMAT: 'json' };
    for (const k of ['RTZR_CLIENT_ID', 'RTZR_CLIENT_SECRET', 'TWILIO_AUTH_TOKEN', 'PUBLIC_URL', 'BARGE_IN']) delete env[k];
    // node itself gets the signal, as under a process manager (npx would stand between them); the
    // condition that `npx`/`npm run` take from the checkout's .npmrc is given explicitly
    const args = ['--conditions=@streaming-stt/source', '--import', 'tsx', 'examples/twilio/server.ts'];
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    const lines: Record<string, unknown>[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let buffered = '';
    const waiters: [(l: Record<string, unknown>) => boolean, () => void][] = [];
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as Record<string, unknown>;
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        for (const [i, [match, done]] of [...waiters.entries()].reverse()) {
          if (!match(line)) continue;
          waiters.splice(i, 1);
          done();
        }
      }
    });
    const waitFor = (match: (l: Record<string, unknown>) => boolean): Promise<void> =>
      lines.some(match) ? Promise.resolve() : new Promise((r) => waiters.push([match, r]));
    try {
      await waitFor((l) => typeof l.port === 'number');
      const port = lines.find((l) => typeof l.port === 'number')!.port as number;
      const call = simulateTwilioCall({ url: `ws://127.0.0.1:${port}/media-stream`, audio: AUDIO_8K, speed: 2 });
      await waitFor((l) => typeof l.msg === 'string' && l.msg.includes(' final #0 '));
      child.kill('SIGTERM');
      const result = await call;
      const [code] = (await exited) as [number | null];
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(result.close.code).toBe(1001);
      const summary = lines.find((l) => l.outcome !== undefined);
      expect(summary).toMatchObject({ callSid: result.callSid, outcome: 'completed' });
      expect(summary!.finals as number).toBeGreaterThanOrEqual(1);
      expect(lines.some((l) => l.msg === 'bye')).toBe(true);
      expect(lines.some((l) => String(l.msg).includes('EMULATOR'))).toBe(true);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    }
  });
});

describe('Twilio example: the commands in its README', () => {
  it('`npx tsx examples/twilio/simulate.ts` transcribes two simultaneous calls, each with its own script, and exits 0', async () => {
    const cwd = fileURLToPath(new URL('..', import.meta.url));
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['RTZR_CLIENT_ID', 'RTZR_CLIENT_SECRET']) delete env[k];
    for (const k of ['NODE_OPTIONS', 'npm_config_node_options']) delete env[k]; // the checkout's .npmrc sets them
    const child = spawn('npx', ['tsx', 'examples/twilio/simulate.ts', '--speed', '0'], { cwd, env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code, out).toBe(0);
    expect(out).toMatch(/caller A CA…\w{6} \(call-ko-8k-mulaw\.wav\): completed, 4 finals, .* all match its script/);
    expect(out).toMatch(/caller B CA…\w{6} \(call-ko-16k-linear16\.wav\): completed, 4 finals, .* all match its script/);
    for (const text of [...script, ...SCRIPT_B]) expect(out).toContain(`: ${text}\n`);
  });

  it('reads its settings from the environment with defaults, and rejects bad values', () => {
    expect(readConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      publicUrl: undefined,
      authToken: undefined,
      bargeIn: false,
      logLevel: 'info',
      logFormat: 'pretty',
      rtzr: false,
    });
    expect(readConfig({ PORT: '0', HOST: '127.0.0.1', BARGE_IN: 'yes', RTZR_CLIENT_ID: 'a', RTZR_CLIENT_SECRET: 'b', LOG_FORMAT: 'JSON' })).toMatchObject({
      port: 0,
      host: '127.0.0.1',
      bargeIn: true,
      rtzr: true,
      logFormat: 'json',
    });
    for (const env of [{ PORT: 'http' }, { PORT: '70000' }, { BARGE_IN: 'maybe' }, { LOG_LEVEL: 'loud' }, { LOG_FORMAT: 'xml' }]) {
      expect(() => readConfig(env), JSON.stringify(env)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(cond()).toBe(true);
}
