/**
 * One emulated `StreamingRecognize` call: validates the config message,
 * decodes the audio, runs the endpointer, answers with interim results and
 * finals from the script, applies Google's stream rules (stream limit, audio
 * timeout, 25 KB messages, real-time pace) and the injected faults, and ends
 * with `OK` once the client half-closed and every final was sent.
 * @module
 * @internal
 */
import { performance } from 'node:perf_hooks';
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { WireAudioDecoder } from '../rtzr/audio-decoder.js';
import { buildWords, confidenceFor, partialUnits, prefixText } from '../rtzr/recognizer-script.js';
import type { ScriptCursor } from '../script-cursor.js';
import type { StreamingFaultState } from './faults.js';
import type {
  GoogleGrpcStatusName,
  GoogleStreamingEmulatorCounters,
  GoogleStreamingLatency,
  GoogleStreamingRequestLogEntry,
  GoogleStreamingStreamLogEntry,
} from './types.js';
import {
  InvalidArgument,
  audioOf,
  finalResponse,
  interimResponse,
  parseFirstRequest,
  speechEventResponse,
  type InterimPart,
  type StreamSetup,
} from './wire.js';

/** The server side of a bidi call, as `@grpc/grpc-js` hands it to a handler (the parts used). */
export interface ServerCall {
  readonly cancelled: boolean;
  on(event: 'data', listener: (req: Record<string, unknown>) => void): this;
  on(event: 'end' | 'cancelled' | 'close', listener: () => void): this;
  on(event: 'error', listener: (err: unknown) => void): this;
  write(message: unknown): boolean;
  end(): void;
  emit(event: 'error', status: { code: number; details: string }): boolean;
}

/** Rules of the emulated service (resolved options). */
export interface CallRules {
  streamLimitMs: number;
  audioTimeoutMs: number;
  maxAheadMs: number;
  maxAudioBytes: number;
  silenceMs: number;
}

/** What a call shares with its emulator. */
export interface CallContext {
  readonly id: number;
  readonly version: 'v1' | 'v2';
  readonly codes: Readonly<Record<GoogleGrpcStatusName, number>>;
  readonly cursor: ScriptCursor;
  /** Script lines handed to utterances (of every call) whose finals are not sent yet. */
  readonly lines: { reserved: number };
  readonly rules: Readonly<CallRules>;
  readonly latency: Readonly<Required<GoogleStreamingLatency>>;
  readonly faults: StreamingFaultState;
  readonly counters: GoogleStreamingEmulatorCounters;
  logRequest(entry: GoogleStreamingRequestLogEntry): void;
  logEnd(entry: GoogleStreamingStreamLogEntry): void;
  onDone(call: RecognitionCall): void;
}

interface OpenUtterance {
  startMs: number;
  text: string;
  nextPartialAt: number;
  shown: number;
}

interface PendingFinal {
  response: Record<string, unknown>;
  dueAt: number;
}

/** One call. */
export class RecognitionCall {
  private setup: StreamSetup | undefined;
  private decoder: WireAudioDecoder | undefined;
  private endpointer: Endpointer | undefined;
  private bytesPerMs = 16;
  private utterance: OpenUtterance | undefined;
  private readonly finals: PendingFinal[] = [];
  /** Script lines this call holds (utterances whose finals are not sent yet). */
  private held = 0;
  private utterances = 0;
  private halfClosed = false;
  private done = false;
  private firstAudioAt: number | undefined;
  private audioMs = 0;
  private maxAhead = 0;
  private limitTimer: NodeJS.Timeout | undefined;
  private audioTimer: NodeJS.Timeout | undefined;
  private audioCheck: NodeJS.Immediate | undefined;
  private finalTimer: NodeJS.Timeout | undefined;
  private halfCloseCheck: NodeJS.Immediate | undefined;

  constructor(
    private readonly call: ServerCall,
    private readonly ctx: CallContext,
  ) {
    ctx.counters.streams++;
    ctx.counters.openStreams++;
    ctx.counters.maxOpenStreams = Math.max(ctx.counters.maxOpenStreams, ctx.counters.openStreams);
    this.limitTimer = setTimeout(() => {
      this.limitTimer = undefined;
      this.fail('OUT_OF_RANGE', `Exceeded maximum allowed stream duration of ${Math.round(ctx.rules.streamLimitMs / 1000)} seconds.`);
    }, ctx.rules.streamLimitMs);
    this.armAudioTimeout();
    call.on('data', (req) => this.onRequest(req));
    call.on('end', () => this.onHalfClose());
    call.on('cancelled', () => this.finish('CANCELLED', 'cancelled by the client'));
    call.on('error', () => this.finish('CANCELLED', 'call error'));
    call.on('close', () => this.finish('CANCELLED', 'closed'));
  }

  /** End the call now with `status` (emulator shutdown). */
  abort(status: GoogleGrpcStatusName, details: string): void {
    this.fail(status, details);
  }

  private onRequest(req: Record<string, unknown>): void {
    if (this.done) return;
    this.ctx.counters.messages++;
    try {
      if (!this.setup) this.configure(req);
      else this.onAudio(audioOf(this.ctx.version, req));
    } catch (err) {
      if (err instanceof InvalidArgument) this.fail('INVALID_ARGUMENT', err.message);
      else throw err;
    }
  }

  private configure(req: Record<string, unknown>): void {
    const injected = this.ctx.faults.takeStart();
    if (injected) {
      this.fail(injected, `emulated ${injected}`);
      return;
    }
    const setup = parseFirstRequest(this.ctx.version, req);
    const entry: GoogleStreamingRequestLogEntry = { version: setup.version, streamingConfig: req.streamingConfig as Record<string, unknown> };
    if (setup.recognizer !== undefined) entry.recognizer = setup.recognizer;
    this.ctx.logRequest(entry);
    this.setup = setup;
    this.decoder = new WireAudioDecoder(setup.encoding);
    this.endpointer = new Endpointer({ sampleRate: setup.sampleRate, silenceMs: this.ctx.rules.silenceMs });
    this.bytesPerMs = (setup.sampleRate * (setup.encoding === 'LINEAR16' ? 2 : 1)) / 1000;
  }

  private onAudio(audio: Uint8Array | undefined): void {
    if (!audio || audio.byteLength === 0 || this.halfClosed) return;
    const { rules, counters, faults } = this.ctx;
    if (audio.byteLength > rules.maxAudioBytes) {
      throw new InvalidArgument(`Audio content of one request exceeds the limit of ${rules.maxAudioBytes} bytes (got ${audio.byteLength}).`);
    }
    counters.audioBytes += audio.byteLength;
    const now = performance.now();
    this.firstAudioAt ??= now;
    this.audioMs += audio.byteLength / this.bytesPerMs;
    const ahead = this.audioMs - (now - this.firstAudioAt);
    this.maxAhead = Math.max(this.maxAhead, ahead);
    if (ahead > rules.maxAheadMs) {
      this.fail('OUT_OF_RANGE', 'Audio data is being streamed too fast. Please stream audio data approximately at real time.');
      return;
    }
    this.armAudioTimeout();
    this.handle(this.endpointer!.push(this.decoder!.decode(audio)));
    if (faults.hasMarks) {
      const status = faults.takeMark(this.audioMs);
      if (status) this.fail(status, `emulated ${status} after ${Math.round(this.audioMs)} ms of audio`);
    }
  }

  private onHalfClose(): void {
    if (this.done || this.halfClosed) return;
    // grpc-js reports a client's RST_STREAM (cancel) as end-of-input first and as a cancellation a
    // tick later: decide once pending events are in.
    this.halfCloseCheck = setImmediate(() => {
      this.halfCloseCheck = undefined;
      if (this.call.cancelled) this.finish('CANCELLED', 'cancelled by the client');
      else this.halfClose();
    });
  }

  private halfClose(): void {
    if (this.done || this.halfClosed) return;
    this.halfClosed = true;
    this.clearAudioTimeout();
    if (this.endpointer) this.handle(this.endpointer.flush());
    this.pump();
  }

  private armAudioTimeout(): void {
    this.clearAudioTimeout();
    const timer = setTimeout(() => {
      // Decide after pending I/O: a half-close or audio already on the socket wins over the timer.
      this.audioCheck = setImmediate(() => {
        this.audioCheck = undefined;
        if (this.audioTimer === timer && !this.halfClosed) {
          this.fail('OUT_OF_RANGE', 'Audio Timeout Error: Long duration elapsed without audio. Audio should be sent close to real time.');
        }
      });
    }, this.ctx.rules.audioTimeoutMs);
    this.audioTimer = timer;
  }

  private clearAudioTimeout(): void {
    if (this.audioTimer) clearTimeout(this.audioTimer);
    if (this.audioCheck) clearImmediate(this.audioCheck);
    this.audioTimer = undefined;
    this.audioCheck = undefined;
  }

  private handle(events: readonly EndpointerEvent[]): void {
    const setup = this.setup!;
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        this.utterance = { startMs: ev.startMs, text: this.takeLine(), nextPartialAt: ev.startMs + this.ctx.latency.partialIntervalMs, shown: 0 };
        if (setup.voiceActivityEvents) this.send(speechEventResponse(setup, 'SPEECH_ACTIVITY_BEGIN', ev.startMs));
        continue;
      }
      this.partialsUpTo(ev.endMs);
      const u = this.utterance ?? { startMs: ev.startMs, text: this.takeLine(), nextPartialAt: 0, shown: 0 };
      this.utterance = undefined;
      if (setup.voiceActivityEvents) this.send(speechEventResponse(setup, 'SPEECH_ACTIVITY_END', ev.endMs));
      const span = Math.max(1, ev.endMs - u.startMs);
      const confidence = confidenceFor(this.utterances++);
      const words = buildWords(u.text, span, confidence).map((w) => ({
        text: w.text,
        startMs: u.startMs + w.start_at,
        endMs: u.startMs + w.start_at + w.duration,
      }));
      this.finals.push({
        response: finalResponse(setup, { text: u.text, confidence, words, endMs: ev.endMs }),
        dueAt: performance.now() + this.ctx.latency.processingMs,
      });
      this.pump();
    }
    if (this.utterance && this.endpointer) this.partialsUpTo(this.endpointer.positionMs);
  }

  /** Interim results of the open utterance due at audio times up to `ms`. */
  private partialsUpTo(ms: number): void {
    const u = this.utterance;
    const setup = this.setup!;
    if (!u || !setup.interimResults) return;
    const interval = Math.max(1, this.ctx.latency.partialIntervalMs);
    while (u.nextPartialAt <= ms) {
      const shown = partialUnits(u.text, u.nextPartialAt - u.startMs, u.shown);
      const at = u.nextPartialAt;
      u.nextPartialAt += interval;
      if (shown === 0 || shown === u.shown) continue;
      u.shown = shown;
      const full = prefixText(u.text, shown);
      const stable = prefixText(u.text, shown - 1);
      const parts: InterimPart[] =
        stable === '' ? [{ text: full, stability: 0.01 }] : [{ text: stable, stability: 0.9 }, { text: full.slice(stable.length), stability: 0.01 }];
      this.send(interimResponse(setup, parts, at));
      this.ctx.counters.partials++;
    }
  }

  /** The next script line (held until its final is sent). */
  private takeLine(): string {
    this.held++;
    return this.ctx.cursor.peek(this.ctx.lines.reserved++);
  }

  /** Send the finals that are due, in order; end the call once the client half-closed and none is left. */
  private pump(): void {
    if (this.finalTimer) clearTimeout(this.finalTimer);
    this.finalTimer = undefined;
    if (this.done) return;
    const now = performance.now();
    while (this.finals[0] && this.finals[0].dueAt <= now) {
      const f = this.finals.shift()!;
      if (!this.send(f.response)) return;
      this.ctx.counters.finals++;
      this.held--;
      this.ctx.lines.reserved--;
      this.ctx.cursor.commit();
    }
    const head = this.finals[0];
    if (head) {
      this.finalTimer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(head.dueAt - now)));
      return;
    }
    if (this.halfClosed && !this.utterance) {
      this.finish('OK');
      this.call.end();
    }
  }

  private send(response: Record<string, unknown>): boolean {
    if (this.done || this.call.cancelled) return false;
    this.call.write(response);
    this.ctx.counters.responses++;
    return true;
  }

  private fail(status: GoogleGrpcStatusName, details: string): void {
    if (this.done) return;
    this.finish(status, details);
    this.ctx.counters.errors++;
    if (!this.call.cancelled) this.call.emit('error', { code: this.ctx.codes[status], details });
  }

  /** Release timers and script lines; log the outcome once. */
  private finish(status: 'OK' | GoogleGrpcStatusName, details?: string): void {
    if (this.done) return;
    this.done = true;
    if (this.limitTimer) clearTimeout(this.limitTimer);
    if (this.finalTimer) clearTimeout(this.finalTimer);
    this.limitTimer = this.finalTimer = undefined;
    if (this.halfCloseCheck) clearImmediate(this.halfCloseCheck);
    this.halfCloseCheck = undefined;
    this.clearAudioTimeout();
    this.ctx.lines.reserved -= this.held;
    this.held = 0;
    this.finals.length = 0;
    this.utterance = undefined;
    this.ctx.counters.openStreams--;
    const entry: GoogleStreamingStreamLogEntry = {
      id: this.ctx.id,
      version: this.ctx.version,
      audioMs: Math.round(this.audioMs),
      maxAheadMs: Math.round(this.maxAhead),
      status,
    };
    if (details !== undefined) entry.details = details;
    this.ctx.logEnd(entry);
    this.ctx.onDone(this);
  }
}
