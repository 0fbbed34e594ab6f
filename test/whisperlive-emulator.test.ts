import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pcm16ToFloat32 } from '../src/audio/pcm.js';
import { startWhisperLiveEmulator, type WhisperLiveEmulator, type WhisperLiveEmulatorOptions } from '../src/testing/index.js';
import { linear16k, script } from './helpers/sample-call.js';

let emu: WhisperLiveEmulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await emu?.close();
  emu = undefined;
});

async function start(options: WhisperLiveEmulatorOptions = {}): Promise<WhisperLiveEmulator> {
  emu = await startWhisperLiveEmulator({ script, ...options });
  return emu;
}

const callF32 = (() => {
  const s = new Int16Array(linear16k.data.buffer, linear16k.data.byteOffset, linear16k.data.byteLength / 2);
  return new Uint8Array(pcm16ToFloat32(s).buffer);
})();

interface Segment {
  start: string;
  end: string;
  text: string;
  completed: boolean;
}
type Msg = { uid: string; message?: string; status?: string; segments?: Segment[]; language?: string };

async function connect(url: string, headers?: Record<string, string>) {
  const ws = new WebSocket(url, headers ? { headers } : {});
  sockets.push(ws);
  const messages: Msg[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(d.toString()) as Msg));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

const options = (uid: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ uid, language: 'ko', task: 'transcribe', model: 'small', use_vad: true, ...extra });

describe('WhisperLive emulator protocol', () => {
  it('answers the options message with SERVER_READY and sends segment updates re-sending the last N', async () => {
    const e = await start();
    const c = await connect(e.url);
    c.ws.send(options('u1', { send_last_n_segments: 2 }));
    await expect.poll(() => c.messages.length).toBe(1);
    expect(c.messages[0]).toEqual({ uid: 'u1', message: 'SERVER_READY', backend: 'faster_whisper' });
    for (let off = 0; off < callF32.length; off += 6400) c.ws.send(callF32.subarray(off, off + 6400));
    c.ws.send(new Uint8Array(1000 * 64)); // 1 s of silence: the last segment commits
    await expect.poll(() => e.counters.segmentsCompleted).toBe(4);
    await expect.poll(() => c.messages.at(-1)?.segments?.filter((s) => s.completed).length).toBe(2);
    const updates = c.messages.filter((m) => m.segments);
    expect(updates.every((m) => m.uid === 'u1')).toBe(true);
    const last = updates.at(-1)!.segments!;
    expect(last.map((s) => s.text)).toEqual([` ${script[2]}`, ` ${script[3]}`]); // only the last 2
    expect(last[0]!.start).toMatch(/^\d+\.\d{3}$/);
    // every committed segment appears in more than one update, the in-progress one as completed: false
    expect(e.counters.segmentsResent).toBeGreaterThan(0);
    expect(updates.some((m) => m.segments!.some((s) => !s.completed))).toBe(true);
    c.ws.send(Buffer.from('END_OF_AUDIO'));
    expect(await c.closed).toBe(1000);
    expect(e.counters.endOfAudioReceived).toBe(1);
  });

  it('sends WAIT (minutes) and closes when max_clients are busy', async () => {
    const e = await start({ maxClients: 1, maxConnectionTimeMs: 120_000 });
    const a = await connect(e.url);
    a.ws.send(options('a'));
    await expect.poll(() => a.messages.length).toBe(1);
    const b = await connect(e.url);
    b.ws.send(options('b'));
    expect(await b.closed).toBe(1000);
    expect(b.messages[0]!.status).toBe('WAIT');
    expect(b.messages[0]!.uid).toBe('b');
    const minutes = (b.messages[0] as unknown as { message: number }).message;
    expect(minutes).toBeGreaterThan(1.9);
    expect(minutes).toBeLessThanOrEqual(2);
    expect(e.counters.waitsSent).toBe(1);
  });

  it('never answers options that lack language/task/model (as the server, which fails inside initialize_client)', async () => {
    const e = await start();
    const c = await connect(e.url);
    c.ws.send(JSON.stringify({ uid: 'x', use_vad: true }));
    await new Promise((r) => setTimeout(r, 100));
    expect(c.messages).toEqual([]);
    expect(e.connectionsLog[0]!.options).toEqual({ uid: 'x', use_vad: true });
  });

  it('sends the detected language when language is null', async () => {
    const e = await start();
    const c = await connect(e.url);
    c.ws.send(options('u', { language: null }));
    await expect.poll(() => c.messages.length).toBe(2);
    expect(c.messages[1]).toMatchObject({ uid: 'u', language: 'ko' });
  });

  it('kills the session on a text frame in place of audio, like np.frombuffer would', async () => {
    const e = await start();
    const c = await connect(e.url);
    c.ws.send(options('u'));
    await expect.poll(() => c.messages.length).toBe(1);
    c.ws.send('END_OF_AUDIO'); // as text: not the end marker
    expect(await c.closed).toBe(1011);
    expect(e.counters.endOfAudioReceived).toBe(0);
  });

  it('checks the API key in Authorization: Bearer or ?token=', async () => {
    const e = await start({ apiKey: 'k1' });
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(e.url);
      sockets.push(ws);
      ws.on('error', () => {});
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
    });
    expect(status).toBe(401);
    await connect(e.url, { Authorization: 'Bearer k1' });
    await connect(`${e.url}/?token=k1`);
    expect(e.counters.connections).toBe(2);
    expect(e.counters.rejectedConnections).toBe(1);
  });

  it('faults: model load ERROR, DISCONNECT after some audio', async () => {
    const e = await start();
    e.faults.failModelLoad();
    const a = await connect(e.url);
    a.ws.send(options('a'));
    expect(await a.closed).toBe(1000);
    expect(a.messages[0]).toMatchObject({ uid: 'a', status: 'ERROR' });
    expect(a.messages[0]!.message).toMatch(/Failed to load model/);

    e.faults.disconnectAfterAudioMs(500);
    const b = await connect(e.url);
    b.ws.send(options('b'));
    await expect.poll(() => b.messages.length).toBe(1);
    b.ws.send(callF32.subarray(0, 1000 * 64));
    expect(await b.closed).toBe(1000);
    expect(b.messages.at(-1)).toEqual({ uid: 'b', message: 'DISCONNECT' });
  });
});
