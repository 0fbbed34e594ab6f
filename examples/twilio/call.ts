/**
 * One Twilio Media Streams connection = one call = one recognition stream.
 *
 * `start` opens the stream (8 kHz mu-law in; the library converts for the provider), every inbound
 * `media` payload is written as it arrives, `stop` ends the stream (last finals, then the summary),
 * and a socket that closes without `stop` aborts it. Bad messages are logged and ignored.
 */
import type { RawData, WebSocket } from 'ws';
import type { Logger, RecognitionStream, StreamingRecognizer, StreamSummary, Transcript } from 'streaming-stt';
import { maskPhone, shortSid } from './log.js';
import { parseTwilioMessage, type TwilioMessage } from './messages.js';

/** How a call ended. */
export type CallOutcome = 'completed' | 'aborted' | 'failed' | 'rejected';

/** What the server keeps of an ended call. */
export interface CallRecord {
  callSid: string;
  streamSid: string;
  customParameters: Record<string, string>;
  outcome: CallOutcome;
  /** The stream's summary (finals, audio, error); absent when no stream was started. */
  summary?: StreamSummary;
  /** Inbound media frames written to the stream. */
  mediaFrames: number;
  /** Messages logged and ignored (malformed, unknown, out of order). */
  ignoredMessages: number;
  /** `clear` messages sent (barge-in). */
  clearsSent: number;
  /** Wall time from `start` to the end of the stream, ms. */
  durationMs: number;
}

/** What a call needs from the server. */
export interface CallContext {
  recognizer: StreamingRecognizer;
  logger: Logger;
  bargeIn: boolean;
  /** A call that sends no `start` within this time is closed, ms. */
  startTimeoutMs: number;
  events: {
    start(info: { callSid: string; streamSid: string; customParameters: Record<string, string> }): void;
    open(info: { callSid: string; streamSid: string; provider: string }): void;
    partial(info: { callSid: string; streamSid: string; transcript: Transcript }): void;
    final(info: { callSid: string; streamSid: string; transcript: Transcript }): void;
    clear(info: { callSid: string; streamSid: string; utteranceId: number }): void;
    end(record: CallRecord): void;
  };
}

type State = 'waiting' | 'streaming' | 'ending' | 'ended';

/** Log at most this many ignored messages per call (then only count them). */
const IGNORED_LOG_LIMIT = 20;

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

export class TwilioCall {
  private state: State = 'waiting';
  private stream: RecognitionStream | undefined;
  private callSid = '';
  private streamSid = '';
  private label = '[call]';
  private customParameters: Record<string, string> = {};
  private startedAt = 0;
  private mediaFrames = 0;
  private ignored = 0;
  private clearsSent = 0;
  private sttFailed = false;
  private lastPartial = new Map<number, string>();
  private startTimer: NodeJS.Timeout | undefined;
  private done!: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: CallContext,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    this.startTimer = setTimeout(() => {
      this.startTimer = undefined;
      if (this.state !== 'waiting') return;
      ctx.logger.warn(`${this.label} no start message within ${ctx.startTimeoutMs} ms: closing the socket`);
      ws.close(1008, 'no start message');
    }, ctx.startTimeoutMs);
    ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    ws.on('error', (err) => ctx.logger.warn(`${this.label} socket error: ${err.message}`));
    ws.on('close', (code) => this.onClose(code));
  }

  /** Resolves when the call is over and its record was emitted. */
  get finished(): Promise<void> {
    return this.done;
  }

  /** Info for `activeCalls()`. */
  get info(): { callSid: string; streamSid: string; state: State; mediaFrames: number } {
    return { callSid: this.callSid, streamSid: this.streamSid, state: this.state, mediaFrames: this.mediaFrames };
  }

  /**
   * Server shutdown: end the stream (its last finals still arrive), then close the socket with
   * 1001. Bounded by `timeoutMs`, after which the stream is aborted.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.state === 'waiting') {
      this.ws.close(1001, 'server shutting down');
    } else if (this.state === 'streaming') {
      this.ctx.logger.info(`${this.label} server shutting down: ending the stream`);
      void this.end('completed', 1001, 'server shutting down');
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.done.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.ctx.logger.warn(`${this.label} did not end within ${timeoutMs} ms: aborting`);
      this.stream?.abort('server shutting down');
      this.ws.terminate();
      await this.done;
    }
  }

  // ── inbound frames ──────────────────────────────────────────────────────────────────────────

  private onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.ignore('binary frame (Twilio sends JSON text frames)');
      return;
    }
    const parsed = parseTwilioMessage(toText(data));
    if (!parsed.ok) {
      this.ignore(parsed.reason);
      return;
    }
    const m = parsed.message;
    if (m.event === 'connected') {
      this.ctx.logger.debug(`${this.label} connected`);
      return;
    }
    if (m.event === 'start') {
      this.onStart(m);
      return;
    }
    if (this.state === 'waiting') {
      this.ignore(`${m.event} before start`);
      return;
    }
    if (m.streamSid !== this.streamSid) {
      this.ignore(`${m.event} for another stream (${shortSid(m.streamSid)})`);
      return;
    }
    switch (m.event) {
      case 'media':
        this.onMedia(m);
        break;
      case 'mark':
        this.ctx.logger.info(`${this.label} mark played: ${m.name}`, { callSid: this.callSid, mark: m.name });
        break;
      case 'dtmf':
        this.ctx.logger.info(`${this.label} DTMF ${m.digit}`, { callSid: this.callSid, digit: m.digit });
        break;
      case 'stop':
        if (this.state === 'streaming') {
          this.ctx.logger.info(`${this.label} stop: ending the stream`, { callSid: this.callSid });
          void this.end('completed', 1000, 'stream stopped');
        }
        break;
    }
  }

  private ignore(reason: string): void {
    this.ignored++;
    if (this.ignored <= IGNORED_LOG_LIMIT) {
      this.ctx.logger.warn(`${this.label} ignored a message: ${reason}`, { callSid: this.callSid || undefined, reason });
    } else if (this.ignored === IGNORED_LOG_LIMIT + 1) {
      this.ctx.logger.warn(`${this.label} more ignored messages; counting them without logging`);
    }
  }

  private onStart(m: Extract<TwilioMessage, { event: 'start' }>): void {
    if (this.state !== 'waiting') {
      this.ignore('a second start');
      return;
    }
    const f = m.mediaFormat;
    if (f.encoding !== 'audio/x-mulaw' || f.sampleRate !== 8000 || f.channels !== 1) {
      // Twilio documents only 8 kHz mono mu-law; anything else cannot be decoded correctly.
      this.ignore(`start with unsupported mediaFormat ${f.encoding}/${f.sampleRate}/${f.channels}`);
      this.ws.close(1003, 'unsupported media format');
      return;
    }
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = undefined;
    this.callSid = m.callSid;
    this.streamSid = m.streamSid;
    this.customParameters = m.customParameters;
    this.label = `[${shortSid(m.callSid)}]`;
    this.startedAt = performance.now();
    const shown = Object.entries(m.customParameters)
      .map(([k, v]) => `${k}=${/^(from|to|caller|called)$/i.test(k) ? maskPhone(v) : v.slice(0, 40)}`)
      .join(' ');
    this.ctx.logger.info(`${this.label} call started: callSid ${m.callSid}, streamSid ${m.streamSid}${shown ? `, ${shown}` : ''}`, {
      callSid: m.callSid,
      streamSid: m.streamSid,
    });
    let stream: RecognitionStream;
    try {
      stream = this.ctx.recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    } catch (err) {
      this.ctx.logger.error(`${this.label} could not start recognition: ${(err as Error).message}`, { callSid: m.callSid });
      this.state = 'ended';
      this.ws.close(1011, 'recognition unavailable');
      this.emitEnd('rejected');
      return;
    }
    this.stream = stream;
    this.state = 'streaming';
    this.wire(stream);
    this.ctx.events.start({ callSid: m.callSid, streamSid: m.streamSid, customParameters: m.customParameters });
  }

  private wire(stream: RecognitionStream): void {
    const { logger, events } = this.ctx;
    const ids = { callSid: this.callSid, streamSid: this.streamSid };
    stream.on('open', ({ provider }) => {
      logger.info(`${this.label} recognizer connected (${provider}, ${Math.round(performance.now() - this.startedAt)} ms after start)`, {
        ...ids,
        provider,
      });
      events.open({ ...ids, provider });
    });
    stream.on('speechstart', ({ utteranceId }) => {
      if (!this.ctx.bargeIn || this.ws.readyState !== this.ws.OPEN) return;
      // Barge-in: the caller started speaking; drop whatever the bot is still playing.
      this.ws.send(JSON.stringify({ event: 'clear', streamSid: this.streamSid }));
      this.clearsSent++;
      logger.info(`${this.label} caller speaking: sent clear (barge-in)`, { ...ids, utteranceId });
      events.clear({ ...ids, utteranceId });
    });
    stream.on('partial', (t) => {
      if (this.lastPartial.get(t.utteranceId) === t.text) return;
      this.lastPartial.set(t.utteranceId, t.text);
      logger.info(`${this.label} partial #${t.utteranceId}: ${t.text}`, { ...ids, utteranceId: t.utteranceId, text: t.text });
      events.partial({ ...ids, transcript: t });
    });
    stream.on('final', (t) => {
      this.lastPartial.delete(t.utteranceId);
      logger.info(`${this.label} final #${t.utteranceId} (${t.latencyMs ?? '?'} ms): ${t.text}`, {
        ...ids,
        utteranceId: t.utteranceId,
        latencyMs: t.latencyMs,
        startMs: t.startMs,
        endMs: t.endMs,
        text: t.text,
      });
      events.final({ ...ids, transcript: t });
    });
    stream.on('error', (err) => {
      logger.error(`${this.label} recognition failed: ${err.code}: ${err.message}`, { ...ids, code: err.code });
    });
    stream.on('warning', (w) => {
      logger.warn(`${this.label} ${w.message}`, { ...ids, code: w.code, droppedMs: w.droppedMs });
    });
    stream.on('close', (summary) => {
      // A failed stream ends the recognition, not the call: the socket stays up until Twilio stops.
      if (summary.error && summary.error.code !== 'ABORTED') this.sttFailed = true;
    });
  }

  private onMedia(m: Extract<TwilioMessage, { event: 'media' }>): void {
    if (m.track !== 'inbound') return; // only the caller's audio is transcribed
    if (this.state !== 'streaming' || !this.stream || this.sttFailed) return; // ending or recognition failed
    // Never throws for the stream's state: after a failure write() returns false and the audio is
    // counted in summary.droppedMs; audio the stream cannot keep is announced by a 'warning'.
    this.stream.write(m.payload); // 8 kHz mu-law, as it arrives
    this.mediaFrames++;
  }

  // ── ending ──────────────────────────────────────────────────────────────────────────────────

  /** `stop` or shutdown: flush the stream, wait (bounded) for its last finals, close the socket. */
  private async end(outcome: CallOutcome, closeCode: number, reason: string): Promise<void> {
    if (this.state !== 'streaming') return;
    this.state = 'ending';
    const summary = await this.stream!.end();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(closeCode, reason);
    this.finish(outcome, summary);
  }

  private onClose(code: number): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = undefined;
    if (this.state === 'waiting') {
      this.ctx.logger.debug(`${this.label} socket closed before start (${code})`);
      this.state = 'ended';
      this.resolveDone();
      return;
    }
    if (this.state === 'streaming') {
      // The caller's leg is gone without `stop` (network drop, crash): no more audio will come.
      this.ctx.logger.warn(`${this.label} socket closed without stop (${code}): aborting the stream`, { callSid: this.callSid });
      this.state = 'ending';
      const stream = this.stream!;
      stream.abort('Twilio socket closed without stop');
      void stream.end().then((summary) => this.finish('aborted', summary));
    }
    // 'ending': end() finishes the call; 'ended': nothing to do.
  }

  private finish(outcome: CallOutcome, summary: StreamSummary): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    const failed = summary.error !== undefined && summary.error.code !== 'ABORTED';
    this.emitEnd(failed ? 'failed' : outcome, summary);
  }

  private emitEnd(outcome: CallOutcome, summary?: StreamSummary): void {
    const record: CallRecord = {
      callSid: this.callSid,
      streamSid: this.streamSid,
      customParameters: this.customParameters,
      outcome,
      mediaFrames: this.mediaFrames,
      ignoredMessages: this.ignored,
      clearsSent: this.clearsSent,
      durationMs: Math.round(performance.now() - this.startedAt),
    };
    if (summary) record.summary = summary;
    this.logSummary(record);
    this.ctx.events.end(record);
    this.resolveDone();
  }

  private logSummary(r: CallRecord): void {
    const s = r.summary;
    const lat = (s?.transcripts ?? []).map((t) => t.latencyMs ?? 0);
    const mean = lat.length ? Math.round(lat.reduce((a, b) => a + b, 0) / lat.length) : 0;
    const parts = [
      `${s?.transcripts.length ?? 0} finals`,
      `${((s?.audioMs ?? 0) / 1000).toFixed(1)} s of audio in ${(r.durationMs / 1000).toFixed(1)} s`,
      lat.length ? `final latency mean ${mean} ms, max ${Math.max(...lat)} ms` : 'no finals',
    ];
    if (r.ignoredMessages) parts.push(`${r.ignoredMessages} messages ignored`);
    if (s?.droppedMs) parts.push(`${Math.round(s.droppedMs)} ms of audio dropped`);
    if (r.clearsSent) parts.push(`${r.clearsSent} clears sent`);
    if (s?.error && s.error.code !== 'ABORTED') parts.push(`error ${s.error.code}: ${s.error.message}`);
    this.ctx.logger.info(`${this.label} call ${r.outcome}: ${parts.join(', ')}`, {
      callSid: r.callSid,
      streamSid: r.streamSid,
      outcome: r.outcome,
      finals: s?.transcripts.length ?? 0,
      audioMs: s?.audioMs ?? 0,
      meanLatencyMs: mean,
      ignoredMessages: r.ignoredMessages,
      droppedMs: s?.droppedMs ?? 0,
      text: s?.text ?? '',
    });
  }
}
