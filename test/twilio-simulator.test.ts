import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAlaw, decodeMulaw, encodeMulaw } from '../src/audio/g711.js';
import { bytesAsInt16 } from '../src/audio/pcm.js';
import { Resampler } from '../src/audio/resampler.js';
import { readWav } from '../src/audio/wav.js';
import { AbortError, AudioFormatError, ConfigurationError, ConnectionError } from '../src/errors/index.js';
import { simulateTwilioCall, twilioSignature } from '../src/testing/index.js';
import { FIXTURE_DIR } from './fixtures/make-fixtures.js';
import { mulaw8k } from './helpers/sample-call.js';
import { startRecorder, type Recorder } from './helpers/ws-recorder.js';

const SAMPLE_8K = readFileSync(new URL('../examples/audio/call-ko-8k-mulaw.wav', import.meta.url));

type Msg = Record<string, unknown> & { event?: string };
const events = (r: Recorder, i = 0): Msg[] => r.connections[i]!.messages.map((m) => m.data as Msg);
const media = (r: Recorder, i = 0) =>
  events(r, i).filter((m) => m.event === 'media') as unknown as {
    sequenceNumber: string;
    streamSid: string;
    media: { track: string; chunk: string; timestamp: string; payload: string };
  }[];
const payloadBytes = (r: Recorder, i = 0): Buffer => Buffer.concat(media(r, i).map((m) => Buffer.from(m.media.payload, 'base64')));

/** A WAV of `ms` of the sample call (mu-law 8 kHz). */
function clip(ms: number): Uint8Array {
  const data = mulaw8k.data.subarray(8000, 8000 + ms * 8);
  const head = Buffer.alloc(44);
  head.write('RIFF', 0);
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(7, 20); // mu-law
  head.writeUInt16LE(1, 22);
  head.writeUInt32LE(8000, 24);
  head.writeUInt32LE(8000, 28);
  head.writeUInt16LE(1, 32);
  head.writeUInt16LE(8, 34);
  head.write('data', 36);
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

let recorder: Recorder | undefined;
afterEach(async () => {
  await recorder?.close();
  recorder = undefined;
});

describe('simulateTwilioCall: the Twilio Media Streams sequence', () => {
  it('sends connected, start, 20 ms media frames with chunk/timestamp, and stop, as Twilio does', async () => {
    recorder = await startRecorder();
    const result = await simulateTwilioCall({
      url: recorder.url,
      audio: SAMPLE_8K,
      speed: 0,
      customParameters: { from: '+821012345678', lang: 'ko-KR' },
    });
    const msgs = events(recorder);
    expect(msgs[0]).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = msgs[1] as { event: string; sequenceNumber: string; streamSid: string; start: Record<string, unknown> };
    expect(start.event).toBe('start');
    expect(start.sequenceNumber).toBe('1');
    expect(start.streamSid).toMatch(/^MZ[0-9a-f]{32}$/);
    expect(start.start).toEqual({
      accountSid: result.accountSid,
      streamSid: result.streamSid,
      callSid: result.callSid,
      tracks: ['inbound'],
      customParameters: { from: '+821012345678', lang: 'ko-KR' },
      mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
    });
    expect(result.callSid).toMatch(/^CA[0-9a-f]{32}$/);
    expect(result.accountSid).toMatch(/^AC[0-9a-f]{32}$/);

    const frames = media(recorder);
    expect(frames.length).toBe(Math.ceil(mulaw8k.data.length / 160));
    frames.forEach((f, i) => {
      expect(f.sequenceNumber).toBe(String(i + 2));
      expect(f.streamSid).toBe(result.streamSid);
      expect(f.media.track).toBe('inbound');
      expect(f.media.chunk).toBe(String(i + 1));
      expect(f.media.timestamp).toBe(String(i * 20));
    });
    expect(frames[0]!.media.payload.length).toBe(216); // 160 bytes in base64
    expect(payloadBytes(recorder).equals(Buffer.from(mulaw8k.data))).toBe(true);

    const stop = msgs[msgs.length - 1] as { event: string; sequenceNumber: string; stop: unknown };
    expect(stop.event).toBe('stop');
    expect(stop.sequenceNumber).toBe(String(frames.length + 2));
    expect(stop.stop).toEqual({ accountSid: result.accountSid, callSid: result.callSid });
    expect(msgs.length).toBe(frames.length + 3);

    expect(result.sent).toEqual({
      messages: msgs.length,
      mediaFrames: frames.length,
      audioMs: mulaw8k.data.length / 8,
      marksEchoed: 0,
      stop: true,
    });
    expect(result.close).toEqual({ code: 1000, reason: '', initiatedBy: 'server' });
  });

  it('converts every WAV format readWav reads to 8 kHz mu-law (resampling when needed)', async () => {
    recorder = await startRecorder();
    const cases: [string, (wav: ReturnType<typeof readWav>) => Uint8Array][] = [
      ['mulaw-8k-fact-list.wav', (w) => w.data],
      ['mulaw-8k-extensible.wav', (w) => w.data],
      ['alaw-8k.wav', (w) => encodeMulaw(decodeAlaw(w.data))],
      ['linear16-8k-streamed.wav', (w) => encodeMulaw(bytesAsInt16(w.data))],
      ['linear16-16k.wav', (w) => resampledTo8k(bytesAsInt16(w.data), 16000)],
      ['linear16-16k-extensible.wav', (w) => resampledTo8k(bytesAsInt16(w.data), 16000)],
      ['float32-16k.wav', (w) => resampledTo8k(bytesAsInt16(pcmOfFloat(w.data)), 16000)],
    ];
    for (const [i, [name, expected]] of cases.entries()) {
      const bytes = readFileSync(join(FIXTURE_DIR, name));
      const wav = readWav(bytes);
      await simulateTwilioCall({ url: recorder.url, audio: bytes, speed: 0 });
      const got = payloadBytes(recorder, i);
      expect(got.length, name).toBe(Math.round((wav.durationMs * 8000) / 1000));
      expect(got.equals(Buffer.from(expected(wav))), name).toBe(true);
    }
  });

  it('takes raw audio with an explicit format', async () => {
    recorder = await startRecorder();
    const pcm = decodeMulaw(mulaw8k.data.subarray(0, 3200));
    await simulateTwilioCall({ url: recorder.url, audio: new Uint8Array(pcm.buffer), format: { encoding: 'linear16', sampleRate: 8000 }, speed: 0 });
    expect(payloadBytes(recorder).equals(Buffer.from(encodeMulaw(pcm)))).toBe(true);
  });

  it('interleaves dtmf, mark and raw frames at their call time; negative atMs goes before start', async () => {
    recorder = await startRecorder();
    await simulateTwilioCall({
      url: recorder.url,
      audio: clip(200),
      speed: 0,
      events: [
        { atMs: 100, dtmf: '5' },
        { atMs: -1, raw: 'hello before start' },
        { atMs: 40, mark: 'greeting-done' },
        { atMs: 10_000, dtmf: '#' },
        { atMs: 60, raw: new Uint8Array([1, 2, 3]) },
      ],
    });
    const seq = recorder.connections[0]!.messages.map((m) => {
      const d = m.data as Msg & { media?: { timestamp: string }; dtmf?: { digit: string; track: string }; mark?: { name: string } };
      if (m.binary) return 'binary';
      if (typeof d === 'string') return `raw:${d}`;
      if (d.event === 'media') return `media@${d.media!.timestamp}`;
      if (d.event === 'dtmf') return `dtmf:${d.dtmf!.digit}:${d.dtmf!.track}`;
      if (d.event === 'mark') return `mark:${d.mark!.name}`;
      return d.event!;
    });
    expect(seq).toEqual([
      'connected',
      'raw:hello before start',
      'start',
      'media@0',
      'media@20',
      'mark:greeting-done',
      'media@40',
      'binary',
      'media@60',
      'media@80',
      'dtmf:5:inbound_track',
      'media@100',
      'media@120',
      'media@140',
      'media@160',
      'media@180',
      'dtmf:#:inbound_track',
      'stop',
    ]);
  });

  it('paces frames in real time at speed 1 and proportionally faster at speed 4', async () => {
    recorder = await startRecorder();
    await simulateTwilioCall({ url: recorder.url, audio: clip(400), speed: 1 });
    await simulateTwilioCall({ url: recorder.url, audio: clip(400), speed: 4 });
    const span = (i: number): number => {
      const m = recorder!.connections[i]!.messages.filter((x) => (x.data as Msg).event === 'media');
      return m[m.length - 1]!.at - m[0]!.at;
    };
    // 20 frames: the last is due 380 ms (speed 1) / 95 ms (speed 4) after the first; timers never fire early.
    expect(span(0)).toBeGreaterThanOrEqual(380 - 5);
    expect(span(1)).toBeGreaterThanOrEqual(95 - 5);
  });
});

describe('simulateTwilioCall: the handshake', () => {
  it('signs the handshake with X-Twilio-Signature that twilio.validateRequest accepts', async () => {
    const authToken = 'test-auth-token-0123456789abcdef';
    const publicUrl = 'wss://stt.example.test/media-stream';
    recorder = await startRecorder({
      checkUpgrade: (req) => {
        const sig = req.headers['x-twilio-signature'];
        return typeof sig === 'string' && twilio.validateRequest(authToken, sig, publicUrl, {}) ? undefined : 403;
      },
    });
    const ok = await simulateTwilioCall({ url: recorder.url, audio: clip(40), speed: 0, signature: { authToken, url: publicUrl } });
    expect(ok.sent.stop).toBe(true);

    for (const signature of [undefined, { authToken: 'wrong-token', url: publicUrl }, { authToken }]) {
      const err = await simulateTwilioCall({ url: recorder.url, audio: clip(40), speed: 0, signature }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as ConnectionError).code).toBe('CONNECTION_FAILED');
      expect((err as ConnectionError).status).toBe(403);
      expect((err as Error).message).not.toContain('wrong-token');
    }
    expect(recorder.connections.length).toBe(1);
  });

  it('twilioSignature equals twilio-node getExpectedTwilioSignature, with POST params and repeated keys', () => {
    const token = 'abc123';
    const url = 'https://example.ngrok.app/twiml?tenant=a&x=1';
    const params = { CallSid: 'CA1', From: '+821012345678', To: '+8225551234', Digits: ['2', '1'] };
    expect(twilioSignature(token, url, params)).toBe(twilio.getExpectedTwilioSignature(token, url, params));
    expect(twilioSignature(token, 'wss://x.test/media-stream')).toBe(twilio.getExpectedTwilioSignature(token, 'wss://x.test/media-stream', {}));
  });

  it('a refused connection is a ConnectionError; nothing is left open', async () => {
    recorder = await startRecorder();
    const url = recorder.url;
    await recorder.close();
    recorder = undefined;
    const err = await simulateTwilioCall({ url, audio: clip(40) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe('CONNECTION_FAILED');
  });
});

describe('simulateTwilioCall: what the server sends back', () => {
  it('records media, marks and invalid frames; echoes a mark once its media played, not those still playing at stop', async () => {
    recorder = await startRecorder({
      onMessage: (conn, msg) => {
        const d = msg.data as Msg & { streamSid: string };
        if (d.event !== 'start') return;
        const sid = d.streamSid;
        const say = (bytes: number): string =>
          JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(bytes, 0xff).toString('base64') } });
        conn.ws.send(say(160)); // 20 ms
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'short' } }));
        conn.ws.send(say(80_000)); // 10 s: still playing when the call ends
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'interrupted' } }));
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'never-played' } }));
        conn.ws.send('not json');
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: 'MZother', mark: { name: 'x' } }));
        conn.ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: '***' } }));
        conn.ws.send(new Uint8Array([1]));
      },
    });
    // First call: the server never clears, so only 'short' is echoed before stop.
    const first = await simulateTwilioCall({ url: recorder.url, audio: clip(400), speed: 1 });
    expect(first.received.media).toMatchObject({ messages: 2, bytes: 80_160 });
    expect(first.received.media.audio.length).toBe(80_160);
    expect(first.received.marks.map((m) => m.name)).toEqual(['short', 'interrupted', 'never-played']);
    expect(first.received.invalid.map((i) => i.reason)).toEqual([
      'not JSON',
      'streamSid "MZother" is not this stream\'s',
      'media.payload is not base64',
      'binary frame (Twilio accepts JSON text frames only)',
    ]);
    const echoed = (i: number): string[] =>
      events(recorder!, i)
        .filter((m) => m.event === 'mark')
        .map((m) => (m as { mark: { name: string } }).mark.name);
    expect(echoed(0)).toEqual(['short']);
    expect(first.sent.marksEchoed).toBe(1);
  });

  it('clear drops queued audio and echoes the pending marks in order', async () => {
    recorder = await startRecorder({
      onMessage: (conn, msg) => {
        const d = msg.data as Msg & { streamSid: string };
        if (d.event !== 'start') return;
        const sid = d.streamSid;
        conn.ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: Buffer.alloc(80_000, 0xff).toString('base64') } }));
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'a' } }));
        conn.ws.send(JSON.stringify({ event: 'mark', streamSid: sid, mark: { name: 'b' } }));
        conn.ws.send(JSON.stringify({ event: 'clear', streamSid: sid }));
      },
    });
    const result = await simulateTwilioCall({ url: recorder.url, audio: clip(300), speed: 1 });
    expect(result.received.clears).toHaveLength(1);
    expect(result.received.clears[0]!.streamSid).toBe(result.streamSid);
    const marks = events(recorder).filter((m) => m.event === 'mark');
    expect(marks.map((m) => (m as { mark: { name: string } }).mark.name)).toEqual(['a', 'b']);
    // Both echoes come before stop.
    const all = events(recorder).map((m) => m.event);
    expect(all.lastIndexOf('mark')).toBeLessThan(all.indexOf('stop'));
  });
});

describe('simulateTwilioCall: endings and bad input', () => {
  it('sendStop: false closes the socket without stop', async () => {
    recorder = await startRecorder();
    const result = await simulateTwilioCall({ url: recorder.url, audio: clip(100), speed: 0, sendStop: false });
    expect(events(recorder).some((m) => m.event === 'stop')).toBe(false);
    expect(result.sent.stop).toBe(false);
    expect(result.close.initiatedBy).toBe('client');
    expect((await recorder.connections[0]!.closed).code).toBe(1000);
  });

  it('resolves when the server hangs up early, without sending stop', async () => {
    recorder = await startRecorder({
      onMessage: (conn) => {
        if (conn.messages.filter((m) => (m.data as Msg).event === 'media').length === 5) conn.ws.close(1000, 'bye');
      },
    });
    const result = await simulateTwilioCall({ url: recorder.url, audio: clip(1000), speed: 4 });
    expect(result.sent.stop).toBe(false);
    expect(result.sent.mediaFrames).toBeLessThan(50);
    expect(result.close).toEqual({ code: 1000, reason: 'bye', initiatedBy: 'server' });
  });

  it('closes the socket itself when the server does not close after stop (closeTimeoutMs)', async () => {
    recorder = await startRecorder({ closeOnStop: false });
    const result = await simulateTwilioCall({ url: recorder.url, audio: clip(40), speed: 0, closeTimeoutMs: 50 });
    expect(result.sent.stop).toBe(true);
    expect(result.close.initiatedBy).toBe('client');
  });

  it('an AbortSignal aborts the call with AbortError and closes the socket', async () => {
    recorder = await startRecorder();
    const ac = new AbortController();
    const conn = recorder.nextConnection();
    const p = simulateTwilioCall({ url: recorder.url, audio: clip(2000), speed: 1, signal: ac.signal });
    await conn;
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    await recorder.connections[0]!.closed;
  });

  it('rejects audio it cannot read with AudioFormatError before connecting', async () => {
    recorder = await startRecorder();
    const bad = readFileSync(join(FIXTURE_DIR, 'invalid', 'stereo-linear16.wav'));
    for (const audio of [bad, new Uint8Array([1, 2, 3, 4]), Buffer.from('RIFF....WAVEjunk')]) {
      await expect(simulateTwilioCall({ url: recorder.url, audio })).rejects.toBeInstanceOf(AudioFormatError);
    }
    await expect(
      simulateTwilioCall({ url: recorder.url, audio: new Uint8Array(3), format: { encoding: 'linear16', sampleRate: 8000 } }),
    ).rejects.toBeInstanceOf(AudioFormatError);
    expect(recorder.upgrades).toBe(0);
  });

  it('rejects invalid options with ConfigurationError', async () => {
    const audio = clip(40);
    const bad = [
      { url: 'http://127.0.0.1:1/media-stream' },
      { url: 'not a url' },
      { url: 'ws://127.0.0.1:1/', speed: -1 },
      { url: 'ws://127.0.0.1:1/', speed: Number.NaN },
      { url: 'ws://127.0.0.1:1/', frameMs: 15 },
      { url: 'ws://127.0.0.1:1/', events: [{ atMs: 0, dtmf: 'x' }] },
      { url: 'ws://127.0.0.1:1/', signature: { authToken: '' } },
      { url: 'ws://127.0.0.1:1/', customParameters: { a: 1 as unknown as string } },
    ];
    for (const o of bad) {
      await expect(simulateTwilioCall({ audio, ...o }), JSON.stringify(o)).rejects.toBeInstanceOf(ConfigurationError);
    }
  });
});

function resampledTo8k(pcm: Int16Array, rate: number): Uint8Array {
  const r = new Resampler({ fromRate: rate, toRate: 8000 });
  return encodeMulaw(Int16Array.from([...r.process(pcm), ...r.flush()]));
}

function pcmOfFloat(bytes: Uint8Array): Uint8Array {
  const f = new Float32Array(new Uint8Array(bytes).buffer);
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = Math.round(f[i]! * 32768);
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return new Uint8Array(out.buffer);
}
