/**
 * `simulateTwilioCall()`: plays a WAV into a WebSocket server as Twilio Media Streams does.
 * @module
 */
import { WebSocket, type RawData } from 'ws';
import { AbortError, ConfigurationError, ConnectionError, TimeoutError, type SttError } from '../../errors/index.js';
import { toTwilioAudio } from './audio.js';
import { parseServerMessage, randomSid, TwilioMessageBuilder } from './messages.js';
import { Playback } from './playback.js';
import { twilioSignature } from './signature.js';
import type { SimulateTwilioCallOptions, TwilioCallEvent, TwilioCallResult, TwilioReceived } from './types.js';

const MAX_INVALID_KEPT = 100;
const MAX_RECORDS = 100_000;
/** Pause sending (speed 0) while the socket holds more than this, bytes. */
const SEND_BUFFER_LIMIT = 1 << 20;
const DTMF = /^[0-9*#A-D]$/;

interface Resolved {
  url: string;
  audio: Uint8Array;
  speed: number;
  frameBytes: number;
  frameMs: number;
  events: TwilioCallEvent[];
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  maxMediaBytes: number;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new ConfigurationError(`simulateTwilioCall: ${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return v;
}

function resolve(o: SimulateTwilioCallOptions): Resolved {
  if (!o || typeof o !== 'object') throw new ConfigurationError('simulateTwilioCall: options are required');
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new ConfigurationError(`simulateTwilioCall: url must be a ws:// or wss:// URL, got ${JSON.stringify(o.url)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new ConfigurationError(`simulateTwilioCall: url must be a ws:// or wss:// URL, got ${url.protocol}//`);
  }
  const frameMs = o.frameMs ?? 20;
  if (!Number.isInteger(frameMs) || frameMs < 10 || frameMs > 1000 || frameMs % 10 !== 0) {
    throw new ConfigurationError(`simulateTwilioCall: frameMs must be a multiple of 10 from 10 to 1000, got ${String(o.frameMs)}`);
  }
  const events = (o.events ?? []).slice();
  for (const ev of events) {
    if (typeof ev?.atMs !== 'number' || Number.isNaN(ev.atMs)) {
      throw new ConfigurationError('simulateTwilioCall: every event needs a numeric atMs');
    }
    if ('dtmf' in ev && !DTMF.test(ev.dtmf)) {
      throw new ConfigurationError(`simulateTwilioCall: dtmf digit must be one of 0-9 * # A-D, got ${JSON.stringify(ev.dtmf)}`);
    }
    if (!('dtmf' in ev) && !('mark' in ev) && !('raw' in ev)) {
      throw new ConfigurationError('simulateTwilioCall: an event is { atMs, dtmf }, { atMs, mark } or { atMs, raw }');
    }
  }
  events.sort((a, b) => a.atMs - b.atMs);
  for (const [k, v] of Object.entries(o.customParameters ?? {})) {
    if (typeof v !== 'string') throw new ConfigurationError(`simulateTwilioCall: customParameters.${k} must be a string`);
  }
  if (o.signature && (typeof o.signature.authToken !== 'string' || o.signature.authToken === '')) {
    throw new ConfigurationError('simulateTwilioCall: signature.authToken must be a non-empty string');
  }
  // Throws AudioFormatError for audio it cannot read: before any connection is made.
  const audio = toTwilioAudio(o.audio, o.format);
  return {
    url: url.href,
    audio,
    speed: nonNegative('speed', o.speed, 1),
    frameMs,
    frameBytes: frameMs * 8,
    events,
    connectTimeoutMs: nonNegative('connectTimeoutMs', o.connectTimeoutMs, 10_000),
    closeTimeoutMs: nonNegative('closeTimeoutMs', o.closeTimeoutMs, 10_000),
    maxMediaBytes: nonNegative('maxMediaBytes', o.maxMediaBytes, 8 << 20),
  };
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/**
 * Play a call into a WebSocket server as Twilio Media Streams does: `connected`, `start` (with
 * `streamSid`, `callSid`, `accountSid`, `tracks`, `mediaFormat` 8 kHz mu-law mono and
 * `customParameters`), `media` frames of `frameMs` (default 20 ms = 160 bytes, base64 `payload`,
 * `chunk` from 1, `timestamp` in ms, `track: 'inbound'`) paced in real time or faster, optional
 * `dtmf`/`mark`/raw frames, then `stop`; then waits (bounded) for the server to close the socket.
 * Echoes the server's marks after its queued `media` "played" and honours `clear`.
 *
 * Message shapes: https://www.twilio.com/docs/voice/media-streams/websocket-messages.
 *
 * @example
 * ```ts
 * import { simulateTwilioCall } from 'streaming-stt/testing';
 * const result = await simulateTwilioCall({
 *   url: 'ws://127.0.0.1:8080/media-stream',
 *   audio: await readFile('call.wav'),        // any WAV readWav reads; converted to 8 kHz mu-law
 *   speed: 0,                                 // as fast as possible (1 = real time)
 *   customParameters: { from: '+821012345678' },
 *   signature: { authToken, url: 'wss://example.ngrok.app/media-stream' },
 * });
 * console.log(result.received.clears.length, result.timing.streamMs);
 * ```
 * @returns what was sent, what the server sent back (marks, clears, media, invalid frames), timing
 * and how the socket closed. Resolves also when the server closes the socket early
 * (`sent.stop` is then false).
 * @throws {@link streaming-stt!AudioFormatError} (`INVALID_AUDIO`) for audio it cannot read (before connecting);
 * {@link streaming-stt!ConfigurationError} (`INVALID_CONFIG`) for invalid options; {@link streaming-stt!ConnectionError}
 * (`CONNECTION_FAILED`, with `status` when the server answered the handshake with an HTTP error,
 * e.g. 403 for a bad signature); {@link streaming-stt!TimeoutError} (`TIMEOUT`) when the handshake takes longer
 * than `connectTimeoutMs`; {@link streaming-stt!AbortError} (`ABORTED`) when `signal` aborts.
 */
export async function simulateTwilioCall(options: SimulateTwilioCallOptions): Promise<TwilioCallResult> {
  const o = resolve(options);
  if (options.signal?.aborted) throw new AbortError('simulated call aborted before it started');
  const ids = {
    streamSid: options.streamSid ?? randomSid('MZ'),
    callSid: options.callSid ?? randomSid('CA'),
    accountSid: options.accountSid ?? randomSid('AC'),
  };
  const call = new SimulatedCall(o, options, ids);
  return call.run();
}

/** One simulated call: the socket, the sender loop and the receiver. */
class SimulatedCall {
  private ws: WebSocket | undefined;
  private readonly build: TwilioMessageBuilder;
  private readonly playback: Playback;
  private readonly received: TwilioReceived = {
    messages: 0,
    marks: [],
    clears: [],
    media: { messages: 0, bytes: 0, audio: new Uint8Array(0) },
    invalid: [],
  };
  private readonly mediaParts: Uint8Array[] = [];
  private mediaKept = 0;
  private messagesSent = 0;
  private mediaFrames = 0;
  private audioBytesSent = 0;
  private marksEchoed = 0;
  private stopSent = false;
  private startedAt = 0;
  private streamStartedAt = 0;
  private streamEndedAt = 0;
  private connectMs = 0;
  private closeInfo: TwilioCallResult['close'] | undefined;
  private closeInitiator: 'server' | 'client' = 'server';
  private readonly timers = new Set<NodeJS.Timeout>();
  private wake: (() => void) | undefined;
  private closedPromise!: Promise<void>;
  private failure: SttError | undefined;

  constructor(
    private readonly o: Resolved,
    private readonly options: SimulateTwilioCallOptions,
    private readonly ids: { streamSid: string; callSid: string; accountSid: string },
  ) {
    this.build = new TwilioMessageBuilder(ids);
    this.playback = new Playback(o.speed, (name) => {
      if (this.stopSent || !this.isOpen()) return;
      this.send(this.build.mark(name));
      this.marksEchoed++;
    });
  }

  async run(): Promise<TwilioCallResult> {
    const signal = this.options.signal;
    const onAbort = (): void => this.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await this.connect();
      await this.play();
      await this.finish();
      if (this.failure) throw this.failure;
      return this.result();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.dispose();
    }
  }

  // ── connection ──────────────────────────────────────────────────────────────────────────

  private connect(): Promise<void> {
    const headers: Record<string, string> = { ...this.options.headers };
    if (this.options.signature) {
      const sig = this.options.signature;
      headers['X-Twilio-Signature'] = twilioSignature(sig.authToken, sig.url ?? this.o.url);
    }
    this.startedAt = performance.now();
    const ws = new WebSocket(this.o.url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: this.o.connectTimeoutMs > 0 ? this.o.connectTimeoutMs : undefined,
    });
    this.ws = ws;
    this.closedPromise = new Promise<void>((resolve) => {
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString('utf8'), initiatedBy: this.closeInitiator };
        this.streamEndedAt ||= performance.now();
        this.playback.dispose();
        this.wake?.();
        resolve();
      });
    });
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: SttError): void => {
        if (settled) return;
        settled = true;
        if (err) {
          this.closeInitiator = 'client';
          ws.terminate();
          reject(err);
        } else resolve();
      };
      ws.once('open', () => {
        this.connectMs = performance.now() - this.startedAt;
        settle();
      });
      ws.once('unexpected-response', (req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        req.destroy();
        settle(
          new ConnectionError('CONNECTION_FAILED', `the server rejected the WebSocket handshake with HTTP ${status}`, {
            status,
          }),
        );
      });
      ws.on('error', (err: Error) => {
        if (settled) return;
        if (/timed out/i.test(err.message)) {
          settle(new TimeoutError(`WebSocket handshake took longer than ${this.o.connectTimeoutMs} ms`, { cause: err }));
        } else {
          settle(new ConnectionError('CONNECTION_FAILED', `could not connect to ${this.safeUrl()}: ${err.message}`, { cause: err }));
        }
      });
      this.abortConnect = () => settle(new AbortError('simulated call aborted'));
    });
  }

  private abortConnect: (() => void) | undefined;

  private safeUrl(): string {
    const u = new URL(this.o.url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.href;
  }

  private isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  private send(data: string | Uint8Array): void {
    if (!this.isOpen()) return;
    this.ws!.send(data);
    this.messagesSent++;
  }

  // ── sending ─────────────────────────────────────────────────────────────────────────────

  private async play(): Promise<void> {
    const { audio, frameBytes, frameMs } = this.o;
    const events = this.o.events;
    let e = 0;
    const sendEvent = (ev: TwilioCallEvent): void => {
      if ('dtmf' in ev) this.send(this.build.dtmf(ev.dtmf));
      else if ('mark' in ev) this.send(this.build.mark(ev.mark));
      else this.send(ev.raw);
    };
    this.send(this.build.connected());
    while (e < events.length && events[e]!.atMs < 0) sendEvent(events[e++]!);
    this.send(this.build.start(this.options.tracks ?? ['inbound'], { ...this.options.customParameters }));
    this.streamStartedAt = performance.now();
    const frames = Math.ceil(audio.length / frameBytes);
    for (let i = 0; i < frames; i++) {
      if (!this.isOpen() || this.failure) return;
      const t = i * frameMs;
      while (e < events.length && events[e]!.atMs <= t) sendEvent(events[e++]!);
      const payload = audio.subarray(i * frameBytes, Math.min((i + 1) * frameBytes, audio.length));
      this.send(this.build.media(i + 1, t, payload));
      this.mediaFrames++;
      this.audioBytesSent += payload.length;
      await this.pace(i + 1);
    }
    if (!this.isOpen() || this.failure) return;
    while (e < events.length) sendEvent(events[e++]!);
  }

  /** Wait until frame `sent` is due (speed > 0), or until the socket can take more (speed 0). */
  private async pace(sent: number): Promise<void> {
    if (this.o.speed === 0) {
      while (this.isOpen() && this.ws!.bufferedAmount > SEND_BUFFER_LIMIT) await this.sleep(5);
      if (sent % 50 === 0) await new Promise<void>((r) => setImmediate(r)); // let replies in
      return;
    }
    const due = this.streamStartedAt + (sent * this.o.frameMs) / this.o.speed;
    const wait = due - performance.now();
    if (wait > 0) await this.sleep(wait);
  }

  /** Sleep `ms`; wakes early when the socket closes or the call is aborted. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.wake = undefined;
        resolve();
      }, Math.ceil(ms));
      this.timers.add(t);
      this.wake = () => {
        clearTimeout(t);
        this.timers.delete(t);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async finish(): Promise<void> {
    if (!this.isOpen() || this.failure) {
      await this.closedPromise;
      return;
    }
    this.streamEndedAt = performance.now();
    if (this.options.sendStop === false) {
      this.closeInitiator = 'client';
      this.ws!.close(1000);
    } else {
      this.send(this.build.stop());
      this.stopSent = true;
      this.playback.dispose();
      // Wait (bounded) for the server to close, as Twilio's stream ends with the socket.
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.isOpen()) {
          this.closeInitiator = 'client';
          this.ws!.close(1000);
        }
      }, this.o.closeTimeoutMs);
      this.timers.add(t);
    }
    await this.closedPromise;
  }

  private abort(): void {
    this.failure = new AbortError('simulated call aborted');
    this.closeInitiator = 'client';
    this.abortConnect?.();
    this.ws?.terminate();
    this.wake?.();
  }

  // ── receiving ───────────────────────────────────────────────────────────────────────────

  private onMessage(data: RawData, isBinary: boolean): void {
    const atMs = this.streamStartedAt ? performance.now() - this.streamStartedAt : 0;
    const r = this.received;
    if (isBinary) {
      this.invalid(atMs, 'binary frame (Twilio accepts JSON text frames only)');
      return;
    }
    r.messages++;
    const parsed = parseServerMessage(toText(data), this.ids.streamSid);
    if (!parsed.ok) {
      this.invalid(atMs, parsed.reason);
      return;
    }
    const m = parsed.message;
    switch (m.event) {
      case 'media':
        r.media.messages++;
        r.media.bytes += m.payload.length;
        if (this.mediaKept + m.payload.length <= this.o.maxMediaBytes) {
          this.mediaParts.push(m.payload);
          this.mediaKept += m.payload.length;
        }
        if (this.options.echoMarks !== false) this.playback.media(m.payload.length);
        break;
      case 'mark':
        if (r.marks.length < MAX_RECORDS) r.marks.push({ name: m.name, atMs });
        if (this.options.echoMarks !== false) this.playback.mark(m.name);
        break;
      case 'clear':
        if (r.clears.length < MAX_RECORDS) r.clears.push({ atMs, streamSid: m.streamSid });
        if (this.options.echoMarks !== false) this.playback.clear();
        break;
    }
  }

  private invalid(atMs: number, reason: string): void {
    if (this.received.invalid.length < MAX_INVALID_KEPT) this.received.invalid.push({ atMs, reason });
  }

  // ── result ──────────────────────────────────────────────────────────────────────────────

  private result(): TwilioCallResult {
    const now = performance.now();
    this.received.media.audio = Buffer.concat(this.mediaParts);
    return {
      ...this.ids,
      sent: {
        messages: this.messagesSent,
        mediaFrames: this.mediaFrames,
        audioMs: this.audioBytesSent / 8,
        marksEchoed: this.marksEchoed,
        stop: this.stopSent,
      },
      received: this.received,
      timing: {
        connectMs: Math.round(this.connectMs),
        streamMs: Math.round((this.streamEndedAt || now) - (this.streamStartedAt || now)),
        totalMs: Math.round(now - this.startedAt),
      },
      close: this.closeInfo ?? { code: 1006, reason: '', initiatedBy: this.closeInitiator },
    };
  }

  private dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.playback.dispose();
    if (this.ws && this.ws.readyState !== WebSocket.CLOSED) this.ws.terminate();
  }
}
