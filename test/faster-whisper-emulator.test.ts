import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pcm16ToFloat32 } from '../src/audio/pcm.js';
import { startFasterWhisperEmulator, type FasterWhisperEmulator, type FasterWhisperEmulatorOptions } from '../src/testing/index.js';
import { linear16k, script } from './helpers/sample-call.js';

let emu: FasterWhisperEmulator | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await emu?.close();
  emu = undefined;
});

async function start(options: FasterWhisperEmulatorOptions = {}): Promise<FasterWhisperEmulator> {
  emu = await startFasterWhisperEmulator({ script, ...options });
  return emu;
}

/** The sample call as float32 16 kHz bytes. */
const callF32 = (() => {
  const s = new Int16Array(linear16k.data.buffer, linear16k.data.byteOffset, linear16k.data.byteLength / 2);
  const f = pcm16ToFloat32(s);
  return new Uint8Array(f.buffer);
})();

async function connect(url: string): Promise<{ ws: WebSocket; replies: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const replies: string[] = [];
  ws.on('message', (d) => replies.push((JSON.parse(d.toString()) as { text: string }).text));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, replies, closed };
}

function sendAll(ws: WebSocket, bytes: Uint8Array, frameBytes: number): void {
  for (let off = 0; off < bytes.length; off += frameBytes) ws.send(bytes.subarray(off, off + frameBytes));
}

describe('Faster-Whisper emulator protocol', () => {
  it('answers every chunk of chunk_duration with {"text"}, re-sending the words of the overlap', async () => {
    const e = await start();
    const { ws, replies } = await connect(e.url);
    sendAll(ws, callF32, 6400); // 100 ms frames
    // 10139 ms of audio hold floor((10139 - 2000) / 1500) + 1 = 6 chunks
    await expect.poll(() => replies.length).toBe(6);
    expect(replies).toEqual(['안녕 오늘', '오늘 일지 쓰려', '오늘 밤', '밤', '먹었어', '모르겠어']);
    expect(e.counters.wordsResent).toBe(2); // 오늘 in chunks 0 and 1, 밤 in 2 and 3
    expect(e.counters.chunksTranscribed).toBe(6);
    expect(e.counters.audioBytes).toBe(callF32.length);
    expect(e.connectionsLog[0]!.replies).toEqual(replies);
  });

  it('does not depend on frame sizes, even frames that split a sample', async () => {
    const e = await start();
    const { ws, replies } = await connect(e.url);
    sendAll(ws, callF32, 4097);
    await expect.poll(() => replies.length).toBe(6);
    expect(replies).toEqual(['안녕 오늘', '오늘 일지 쓰려', '오늘 밤', '밤', '먹었어', '모르겠어']);
  });

  it('honours other chunk and overlap durations', async () => {
    const e = await start({ chunkDurationMs: 3000, overlapDurationMs: 1000 });
    const { ws, replies } = await connect(e.url);
    sendAll(ws, callF32, 6400);
    await expect.poll(() => replies.length).toBe(4); // floor((10139 - 3000) / 2000) + 1
    const heard = replies.join(' ').split(' ');
    expect(heard).toEqual(expect.arrayContaining(script.slice(0, 3).join(' ').split(' ')));
    // the last 1139 ms never fill a chunk: a client must pad with silence to hear the last word
    expect(heard).not.toContain(script[3]);
  });

  it('says stock phrases on silent chunks when asked, and nothing otherwise', async () => {
    const silence = new Uint8Array(5000 * 64); // 5 s of float32 zeros: 3 chunks
    const quiet = await start();
    const a = await connect(quiet.url);
    sendAll(a.ws, silence, 6400);
    await expect.poll(() => a.replies.length).toBe(3);
    expect(a.replies).toEqual(['', '', '']);
    await quiet.close();

    const noisy = await start({ hallucinate: true });
    const b = await connect(noisy.url);
    sendAll(b.ws, silence, 6400);
    await expect.poll(() => b.replies.length).toBe(3);
    expect(b.replies.every((t) => t.length > 0)).toBe(true);
    expect(b.replies[0]).toBe('시청해 주셔서 감사합니다.');
    expect(noisy.counters.hallucinationsSent).toBe(3);
  });

  it('closes with 1003 on a text frame and 1009 on a message over max size', async () => {
    const e = await start({ maxMessageBytes: 8192 });
    const t = await connect(e.url);
    t.ws.send('hello');
    expect(await t.closed).toBe(1003);
    const big = await connect(e.url);
    big.ws.send(new Uint8Array(8196));
    expect(await big.closed).toBe(1009);
  });

  it('faults: stall withholds replies, a drop terminates, rejections answer with a status', async () => {
    const e = await start();
    e.faults.stall(true);
    const s = await connect(e.url);
    sendAll(s.ws, callF32.subarray(0, 4000 * 64), 6400);
    await expect.poll(() => e.counters.chunksTranscribed).toBe(2);
    expect(s.replies).toEqual([]);
    e.faults.stall(false);

    e.faults.dropAfterAudioMs(1000);
    const d = await connect(e.url);
    sendAll(d.ws, callF32.subarray(0, 2000 * 64), 6400);
    expect(await d.closed).toBe(1006);
    expect(e.connectionsLog[1]!.closeCode).toBe(1006);

    e.faults.rejectConnections(503);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(e.url);
      sockets.push(ws);
      ws.on('error', () => {});
      ws.once('unexpected-response', (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
    });
    expect(status).toBe(503);
    expect(e.counters.rejectedConnections).toBe(1);
  });

  it('rejects invalid options', async () => {
    await expect(startFasterWhisperEmulator({ chunkDurationMs: 1000, overlapDurationMs: 1000 })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
    });
    await expect(startFasterWhisperEmulator({ wordCoverage: 0.8 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

describe('Faster-Whisper emulator: mangled chunk edges and word times', () => {
  it('mangleEdges: a word cut by a chunk end comes out garbled, one cut by its start as its tail', async () => {
    const e = await start({ mangleEdges: true });
    const { ws, replies } = await connect(e.url);
    sendAll(ws, callF32, 6400);
    await expect.poll(() => replies.length).toBe(6);
    // chunk 0 (0-2 s) ends in the middle of 일지 (1.8-2.3 s), chunk 1 (1.5-3.5 s) starts in 오늘 (1.3-1.8 s)
    expect(replies.slice(0, 2)).toEqual(['안녕 오늘 지일 음', '늘 일지 쓰려']);
    expect(e.counters.wordsMangled).toBeGreaterThanOrEqual(2);
  });

  it('wordTimes: replies carry segment and word times in seconds from the chunk start, as server.py sends them', async () => {
    const e = await start({ wordTimes: true });
    const ws = new WebSocket(e.url);
    sockets.push(ws);
    const frames: { text: string; segments: { start: number; end: number; text: string; words: { word: string; start: number; end: number }[] }[] }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as (typeof frames)[number]));
    await new Promise((r) => ws.once('open', r));
    sendAll(ws, callF32, 6400);
    await expect.poll(() => frames.length).toBe(6);
    expect(frames[0]!.text).toBe('안녕 오늘');
    const seg = frames[0]!.segments[0]!;
    expect(seg.words.map((w) => w.word.trim())).toEqual(['안녕', '오늘']);
    // 안녕 starts with the first utterance, 0.8 s into chunk 0; chunk 1 starts at 1.5 s, so 오늘 (1.3-1.8 s) is cut there
    expect(seg.words[0]!.start).toBeCloseTo(0.8, 1);
    expect(frames[1]!.segments[0]!.words[0]).toMatchObject({ word: ' 오늘', start: 0 });
    for (const f of frames) {
      for (const s of f.segments) for (const w of s.words) expect(w.start).toBeLessThanOrEqual(w.end);
    }
  });
});
