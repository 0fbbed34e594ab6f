/**
 * One emulated connection of a Faster-Whisper chunk server: accumulates
 * float32 16 kHz audio, and every time `chunk_duration` of audio is buffered
 * "transcribes" it (the scripted words heard in it), replies `{"text": …}`,
 * and keeps the last `overlap_duration` as the start of the next chunk, so
 * words in the overlap are sent twice, as a real server does.
 * @module
 * @internal
 */
import type { Script } from '../script-cursor.js';
import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import { Endpointer } from '../../audio/endpointer.js';
import { bytesAsFloat32, float32ToPcm16 } from '../../audio/pcm.js';
import { SampleAligner } from '../../transport/binary-frames.js';
import type { FaultState } from './faults.js';
import { SpeechTimeline, type HeardWord } from './speech-timeline.js';
import type { FasterWhisperConnectionLogEntry, FasterWhisperEmulatorCounters, FasterWhisperLatency } from './types.js';

const SAMPLES_PER_MS = 16;
const MALFORMED_FRAME = '{"text": "unterminated';
const ERROR_FRAME = JSON.stringify({ error: 'emulated transcription failure' });
const REPLY_LOG_LIMIT = 1000;

/** What a session shares with the server. */
export interface SessionContext {
  readonly script: Script;
  readonly chunkMs: number;
  readonly overlapMs: number;
  readonly coverage: number;
  readonly mangleEdges: boolean;
  readonly wordTimes: boolean;
  readonly epdMs: number;
  /** Phrases said on silent chunks (empty: none). */
  readonly hallucinations: readonly string[];
  readonly latency: Readonly<Required<FasterWhisperLatency>>;
  readonly faults: FaultState;
  readonly counters: FasterWhisperEmulatorCounters;
  readonly log: FasterWhisperConnectionLogEntry;
  readonly onClosed: (session: FasterWhisperEmulatorSession) => void;
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}

/** @internal */
export class FasterWhisperEmulatorSession {
  private readonly endpointer: Endpointer;
  private readonly speech: SpeechTimeline;
  private readonly aligner = new SampleAligner(4);
  private readonly chunkSamples: number;
  private readonly stepSamples: number;
  private scratch = new Int16Array(1600);
  private received = 0;
  private nextChunk = 0;
  private lastHeard = new Set<string>();
  private hallucinationIndex = 0;
  private readonly replies: { frame: string; text: string; heard: readonly HeardWord[]; dueAt: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    this.chunkSamples = ctx.chunkMs * SAMPLES_PER_MS;
    this.stepSamples = (ctx.chunkMs - ctx.overlapMs) * SAMPLES_PER_MS;
    this.endpointer = new Endpointer({ sampleRate: 16000, silenceMs: ctx.epdMs });
    this.speech = new SpeechTimeline(ctx.script);
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.onAudio(toBuffer(data));
      else this.onText();
    });
    ws.on('error', () => {
      /* close follows */
    });
    ws.on('close', (code) => this.onClose(code));
  }

  /** Drop the connection without a close frame. */
  terminate(): void {
    this.dispose();
    this.ws.terminate();
    this.onClose(1006);
  }

  private dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.replies.length = 0;
  }

  private onClose(code: number): void {
    if (this.closed) return;
    this.closed = true;
    this.dispose();
    this.ctx.log.closedAt = Date.now();
    this.ctx.log.closeCode = code;
    this.ctx.onClosed(this);
  }

  /** Text frames are not audio: the reference server closes with 1003. */
  private onText(): void {
    if (this.closed) return;
    this.ws.close(1003, 'binary float32 frames only');
  }

  private onAudio(bytes: Uint8Array): void {
    if (this.closed) return;
    const { counters, faults, log } = this.ctx;
    counters.framesReceived++;
    counters.audioBytes += bytes.length;
    const aligned = this.aligner.align(bytes);
    if (aligned.length === 0) return;
    const floats = bytesAsFloat32(aligned);
    if (this.scratch.length < floats.length) this.scratch = new Int16Array(floats.length);
    const pcm = float32ToPcm16(floats, this.scratch);
    // Feed the endpointer up to each chunk boundary, so a chunk is transcribed with exactly its audio.
    let off = 0;
    while (off < pcm.length) {
      const boundary = this.nextChunk * this.stepSamples + this.chunkSamples;
      const take = Math.min(pcm.length - off, boundary - this.received);
      this.speech.onEvents(this.endpointer.push(pcm.subarray(off, off + take)));
      off += take;
      this.received += take;
      this.speech.advance(this.received / SAMPLES_PER_MS);
      if (this.received === boundary) this.transcribe(this.nextChunk++);
    }
    log.audioMs = this.received / SAMPLES_PER_MS;
    if (faults.drops.pending && faults.drops.take(log.audioMs)) this.terminate();
  }

  private transcribe(k: number): void {
    const { counters, coverage, hallucinations } = this.ctx;
    const from = (k * this.stepSamples) / SAMPLES_PER_MS;
    const to = from + this.ctx.chunkMs;
    const heard = this.speech.heard(from, to, coverage, this.ctx.mangleEdges);
    for (const w of heard) if (this.lastHeard.has(w.key)) counters.wordsResent++;
    this.lastHeard = new Set(heard.map((w) => w.key));
    const words = heard.flatMap((w) => this.render(w, from, to));
    let text = words.map((w) => w.word).join(' ');
    let segments: Record<string, unknown>[] | undefined;
    if (heard.length === 0 && hallucinations.length > 0) {
      text = hallucinations[this.hallucinationIndex++ % hallucinations.length]!;
      counters.hallucinationsSent++;
      segments = [{ start: 0, end: this.ctx.chunkMs / 1000, text: ` ${text}`, words: [] }];
    } else if (words.length > 0) {
      const sec = (ms: number): number => Math.round(ms - from) / 1000;
      segments = [
        {
          start: sec(words[0]!.start),
          end: sec(words[words.length - 1]!.end),
          text: ` ${text}`,
          words: words.map((w) => ({ word: ` ${w.word}`, start: sec(w.start), end: sec(w.end), probability: 0.9 })),
        },
      ];
    }
    const reply: Record<string, unknown> = { text };
    if (this.ctx.wordTimes) reply.segments = segments ?? [];
    counters.chunksTranscribed++;
    this.speech.prune(from + this.ctx.chunkMs - this.ctx.overlapMs);
    this.replies.push({ frame: JSON.stringify(reply), text, heard, dueAt: performance.now() + this.ctx.latency.processingMs });
    this.pump();
  }

  /**
   * A heard word as this chunk transcribes it, with its times clipped to the chunk: whole, or
   * (with `mangleEdges`) garbled when the chunk's end cuts it, its tail when the chunk's start does.
   */
  private render(w: HeardWord, from: number, to: number): { word: string; start: number; end: number }[] {
    const start = Math.max(w.start, from);
    const end = Math.min(w.end, to);
    if (!this.ctx.mangleEdges || w.inside >= 1) return [{ word: w.text, start, end }];
    this.ctx.counters.wordsMangled++;
    const chars = [...w.text];
    if (w.end > to) {
      const middle = (start + end) / 2;
      return [
        { word: chars.reverse().join('') + (chars.length === 1 ? '?' : ''), start, end: middle },
        { word: '음', start: middle, end },
      ];
    }
    const keep = Math.max(1, Math.round(chars.length * w.inside));
    return [{ word: chars.slice(chars.length - keep).join(''), start, end }];
  }

  /** Send the replies that are due, in order; re-arm the timer for the next. */
  private pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const now = performance.now();
    while (this.replies.length > 0 && this.replies[0]!.dueAt <= now) this.send(this.replies.shift()!);
    const head = this.replies[0];
    if (head) this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(head.dueAt - now)));
  }

  private send(reply: { frame: string; text: string; heard: readonly HeardWord[] }): void {
    const { faults, counters, log } = this.ctx;
    if (faults.isStalled || this.ws.readyState !== WebSocket.OPEN) return;
    const fault = faults.takeReplyFault();
    if (fault === undefined) {
      // the words are delivered once written out (a drop right after send() discards them)
      this.ws.send(reply.frame, (err) => err || this.speech.delivered(reply.heard));
    } else this.ws.send(fault === 'malformed' ? MALFORMED_FRAME : ERROR_FRAME);
    counters.messagesSent++;
    if (fault === undefined) {
      log.replies.push(reply.text);
      if (log.replies.length > REPLY_LOG_LIMIT) log.replies.splice(0, log.replies.length - REPLY_LOG_LIMIT);
    }
  }
}
