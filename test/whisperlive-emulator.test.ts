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

describe('WhisperLive emulator: the server\'s transcription loop (modelPassMs)', () => {
  it('transcribes in passes: all but the last segment committed, the last one in progress until output repeats', async () => {
    const e = await start({ modelPassMs: 30 });
    const c = await connect(e.url);
    c.ws.send(options('u1', { same_output_threshold: 2 }));
    await expect.poll(() => c.messages.length).toBe(1);
    c.ws.send(callF32); // the whole call at once: the first pass covers all of it
    await expect.poll(() => e.counters.segmentsCompleted, { timeout: 5000 }).toBe(4);
    const updates = c.messages.filter((m) => m.segments).map((m) => m.segments!);
    // first update: three committed, the last utterance only in progress
    expect(updates[0]!.map((s) => [s.text.trim(), s.completed])).toEqual([
      [script[0], true],
      [script[1], true],
      [script[2], true],
      [script[3], false],
    ]);
    // the same in-progress text three times (> same_output_threshold 2) is committed
    const repeats = updates.filter((u) => u.some((s) => !s.completed && s.text.trim() === script[3])).length;
    expect(repeats).toBe(3);
    expect(updates.at(-1)!.at(-1)).toMatchObject({ text: ` ${script[3]}`, completed: true });
  });

  it('runs a pass only over at least minAudioMs of audio, and says nothing about a window without speech', async () => {
    const e = await start({ modelPassMs: 20, minAudioMs: 1000 });
    const c = await connect(e.url);
    c.ws.send(options('u1'));
    await expect.poll(() => c.messages.length).toBe(1);
    const frame = (f32: Uint8Array, off: number): Uint8Array => f32.subarray(off, off + 6400);
    // 2.5 s of silence in 100 ms frames at 5x real time: passes run, and none gives an update
    const silence = new Uint8Array(2500 * 64);
    for (let off = 0; off < silence.length; off += 6400) {
      c.ws.send(frame(silence, off));
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect.poll(() => e.connectionsLog[0]!.passes?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(c.messages.filter((m) => m.segments)).toEqual([]);
    // then the call, the same way: the loop sees windows of every length, never one under 1 s
    for (let off = 0; off < callF32.length; off += 6400) {
      c.ws.send(frame(callF32, off));
      await new Promise((r) => setTimeout(r, 20));
    }
    await expect.poll(() => c.messages.filter((m) => m.segments).length).toBeGreaterThan(3);
    for (const p of e.connectionsLog[0]!.passes!) expect(p.toMs - p.fromMs).toBeGreaterThanOrEqual(1000);
  });

  it('END_OF_AUDIO stops the loop: the pass under way is never sent, what is left is not transcribed', async () => {
    const e = await start({ modelPassMs: 200 });
    const c = await connect(e.url);
    c.ws.send(options('u1'));
    await expect.poll(() => c.messages.length).toBe(1);
    c.ws.send(callF32);
    c.ws.send(Buffer.from('END_OF_AUDIO'));
    expect(await c.closed).toBe(1000);
    // the pass under way (over the whole call) finished after END_OF_AUDIO and was thrown away
    await expect.poll(() => e.connectionsLog[0]!.passes?.length ?? 0).toBe(1);
    expect(e.connectionsLog[0]!.passes![0]).toMatchObject({ fromMs: 0, discarded: true });
    expect(c.messages.filter((m) => m.segments)).toEqual([]);
    expect(e.counters.updatesSent).toBe(0);
  });

  it('rejects an invalid modelPassMs or minAudioMs', async () => {
    await expect(startWhisperLiveEmulator({ modelPassMs: -1 })).rejects.toThrow(/modelPassMs/);
    await expect(startWhisperLiveEmulator({ modelPassMs: 10, minAudioMs: 0 })).rejects.toThrow(/minAudioMs/);
  });
});
