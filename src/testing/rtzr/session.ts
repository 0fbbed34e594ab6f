/**
 * One emulated RTZR streaming connection (one call): decodes audio, runs the
 * endpointer, sends partials and finals in `seq` order, handles `Finalize`
 * and `EOS`, and applies per-result faults.
 * @module
 * @internal
 */
import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { WireAudioDecoder } from './audio-decoder.js';
import type { FaultState } from './faults.js';
import type { RtzrStreamConfig } from './params.js';
import {
  buildWords,
  confidenceFor,
  partialUnits,
  prefixText,
  scriptedText,
  type RtzrResultMessage,
  type RtzrWord,
} from './recognizer-script.js';
import { ScriptCursor, type Script } from '../script-cursor.js';
import type { RtzrConnectionLogEntry, RtzrEmulatorCounters, RtzrLatency } from './types.js';

/** What a session shares with the server. */
export interface SessionContext {
  readonly id: number;
  readonly config: RtzrStreamConfig;
  /** A per-connection script, or a cursor shared by every connection (and emulator) of a call. */
  readonly script: Script;
  /** Live latency settings (read when used). */
  readonly latency: Readonly<Required<RtzrLatency>>;
  /** What the `start_at` of a final's words counts from. */
  readonly wordTimes: 'utterance' | 'connection';
  readonly faults: FaultState;
  readonly counters: RtzrEmulatorCounters;
  readonly log: RtzrConnectionLogEntry;
  /** Called once when the socket has closed. */
  readonly onClosed: (session: RtzrSession) => void;
}

/** The utterance being spoken. */
interface OpenUtterance {
  seq: number;
  startMs: number;
  text: string;
  /** Audio time (ms) of the next partial. */
  nextPartialAt: number;
  intervalMs: number;
  /** Units (words or characters) shown by the last partial. */
  shown: number;
}

/** A final waiting for its processing delay. */
interface PendingFinal {
  message: RtzrResultMessage;
  /** The final carries a line of a shared script cursor (commit it when sent). */
  fromCursor: boolean;
  /** `performance.now()` when it may be sent. */
  dueAt: number;
}

const MALFORMED_FRAME = '{"seq": 0, "final": tru';
const ERROR_FRAME = JSON.stringify({ type: 'error', message: 'emulated server error' });

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}

/** One WebSocket connection of the emulator. */
export class RtzrSession {
  private readonly decoder: WireAudioDecoder;
  private readonly endpointer: Endpointer;
  private nextSeq = 0;
  private utterance: OpenUtterance | null = null;
  private readonly finals: PendingFinal[] = [];
  private timer: NodeJS.Timeout | undefined;
  private eosReceived = false;
  /** Stuck (a silence fault): accepts audio, answers pings, sends nothing, never closes. */
  private silent = false;
  /** Set on close or terminate: frames still buffered in `ws` are then ignored. */
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    this.decoder = new WireAudioDecoder(ctx.config.encoding);
    this.endpointer = new Endpointer({
      sampleRate: ctx.config.sampleRate,
      silenceMs: ctx.config.epdMs,
      maxUtteranceMs: ctx.config.maxUtterMs,
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.onAudio(toBuffer(data));
      else this.onText(toBuffer(data).toString('utf8'));
    });
    ws.on('error', () => {
      /* the close event follows */
    });
    ws.on('pong', (data) => this.onPong(data));
    ws.on('close', (code) => this.onClose(code));
  }

  /** Drop the connection without a close frame (network-drop emulation). */
  terminate(): void {
    // Finals already written still reach the client (TCP delivers them before the reset).
    this.commitUpTo(Number.POSITIVE_INFINITY);
    this.dispose();
    this.ws.terminate();
    this.onClose(1006);
  }

  /** Clear the timer and pending finals. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.finals.length = 0;
    this.utterance = null;
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.dispose();
    this.ctx.log.closedAt = Date.now();
    this.ctx.log.closeCode = code;
    this.ctx.onClosed(this);
  }

  private onAudio(bytes: Uint8Array): void {
    if (this.closed) return;
    const { counters, faults, log } = this.ctx;
    counters.framesReceived++;
    counters.audioBytes += bytes.length;
    if (this.eosReceived) return;
    this.handleEvents(this.endpointer.push(this.decoder.decode(bytes)));
    log.audioMs = this.endpointer.positionMs;
    if (faults.hasSilences && !this.silent && faults.takeSilence(log.audioMs)) this.silent = true;
    if (faults.hasDrops && faults.takeDrop(log.audioMs)) this.terminate();
  }

  private onText(text: string): void {
    if (this.closed || this.eosReceived) return;
    if (text === 'EOS') {
      this.eosReceived = true;
      if (this.ctx.faults.takeSilenceAfterEos()) this.silent = true;
      this.handleEvents(this.endpointer.flush());
      this.pump();
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return; // unknown text frames are ignored
    }
    if (typeof parsed === 'object' && parsed !== null && (parsed as { type?: unknown }).type === 'Finalize') {
      this.handleEvents(this.endpointer.flush());
    }
  }

  private handleEvents(events: readonly EndpointerEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        const seq = this.nextSeq++;
        const intervalMs = this.ctx.latency.partialIntervalMs;
        this.utterance = {
          seq,
          startMs: ev.startMs,
          text: this.textFor(seq),
          nextPartialAt: ev.startMs + intervalMs,
          intervalMs,
          shown: 0,
        };
      } else {
        this.partialsUpTo(ev.endMs);
        this.queueFinal(ev.startMs, ev.endMs);
        this.utterance = null;
      }
    }
    if (this.utterance) this.partialsUpTo(this.endpointer.positionMs);
  }

  /** Send the partials of the open utterance due at audio times up to `ms`. */
  private partialsUpTo(ms: number): void {
    const u = this.utterance;
    if (!u) return;
    while (u.nextPartialAt <= ms) {
      const shown = partialUnits(u.text, u.nextPartialAt - u.startMs, u.shown);
      u.nextPartialAt += u.intervalMs;
      if (shown === 0) continue;
      u.shown = shown;
      this.sendResult({
        seq: u.seq,
        start_at: u.startMs,
        duration: 0,
        final: false,
        alternatives: [{ text: prefixText(u.text, shown), confidence: Math.round((confidenceFor(u.seq) - 0.1) * 100) / 100 }],
      });
    }
  }

  private queueFinal(startMs: number, endMs: number): void {
    const u = this.utterance;
    const seq = u ? u.seq : this.nextSeq++;
    const text = u ? u.text : this.textFor(seq);
    const duration = Math.max(1, endMs - startMs);
    const confidence = confidenceFor(seq);
    this.finals.push({
      message: {
        seq,
        start_at: startMs,
        duration,
        final: true,
        alternatives: [{ text, confidence, words: this.words(text, startMs, duration, confidence) }],
      },
      fromCursor: this.ctx.script instanceof ScriptCursor,
      dueAt: performance.now() + this.ctx.latency.processingMs,
    });
    this.pump();
  }

  /** A final's words, `start_at` from the utterance's start or from the connection's first audio. */
  private words(text: string, startMs: number, duration: number, confidence: number): RtzrWord[] {
    const words = buildWords(text, duration, confidence);
    if (this.ctx.wordTimes === 'connection') for (const w of words) w.start_at += startMs;
    return words;
  }

  /** Send the finals that are due, in order; re-arm the timer for the next; close after EOS. */
  private pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    while (this.finals.length > 0 && this.finals[0]!.dueAt <= now) {
      const f = this.finals.shift()!;
      if (!f.fromCursor) {
        this.sendResult(f.message);
        continue;
      }
      // The line stays reserved for this connection until the client is known to have the final: a
      // ping sent after it came back, or the server dropped the socket after writing it (TCP still
      // delivers it). A client that hangs up right after send() never got it, and the replay (or
      // the fallback provider) must get the same line.
      if (this.sendResult(f.message)) this.awaitAck();
      else this.cursorAhead--;
    }
    const head = this.finals[0];
    if (head) {
      this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(head.dueAt - now)));
      return;
    }
    if (this.eosReceived && !this.ctx.faults.isHoldingAfterEos && !this.ctx.faults.isStalled && !this.silent) {
      this.ws.close(1000);
    }
  }

  /**
   * Text of the utterance with this connection's `seq`: a line of the per-connection script,
   * or the next undelivered line of a shared cursor (skipping lines this connection has
   * already given to utterances whose finals are not sent yet).
   */
  private textFor(seq: number): string {
    const script = this.ctx.script;
    if (script instanceof ScriptCursor) return script.peek(this.cursorAhead++);
    return scriptedText(script, seq);
  }

  /** Utterances of this connection holding a cursor line that is not committed yet. */
  private cursorAhead = 0;
  /** Finals written whose delivery is not acknowledged yet (ping ids, oldest first). */
  private readonly unacked: number[] = [];
  private pings = 0;

  /** A cursor final was handed to the socket: ping, and commit its line when the pong comes back. */
  private awaitAck(): void {
    const id = ++this.pings;
    this.unacked.push(id);
    this.ws.ping(String(id));
  }

  /** A pong: every final written before that ping has reached the client. */
  private onPong(data: Buffer): void {
    const id = Number(data.toString('utf8'));
    if (Number.isInteger(id)) this.commitUpTo(id); // else a pong of the client's own making
  }

  /** Commit the lines of the finals written before ping `id`. */
  private commitUpTo(id: number): void {
    if (this.closed) return;
    while (this.unacked.length > 0 && this.unacked[0]! <= id) {
      this.unacked.shift();
      this.cursorAhead--;
      (this.ctx.script as ScriptCursor).commit();
    }
  }

  /** Send one result (or the fault that replaces it); true when the result itself was handed to the socket. */
  private sendResult(message: RtzrResultMessage): boolean {
    const { faults, counters } = this.ctx;
    if (faults.isStalled || this.silent || this.ws.readyState !== WebSocket.OPEN) return false;
    const fault = faults.takeResultFault();
    const frame = fault === 'malformed' ? MALFORMED_FRAME : fault === 'error' ? ERROR_FRAME : JSON.stringify(message);
    this.ws.send(frame);
    counters.messagesSent++;
    if (message.final && fault === undefined) counters.finalsSent++;
    return fault === undefined;
  }
}
