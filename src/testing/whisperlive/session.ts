/**
 * One emulated WhisperLive session: the options message, `WAIT` when the
 * server is full, `SERVER_READY` (or the injected `ERROR`), then audio in and
 * transcript updates out every `updateIntervalMs` of audio: the last
 * `send_last_n_segments` committed segments (re-sent every time) plus the
 * in-progress one (`completed: false`), with times as strings of seconds.
 * `END_OF_AUDIO` closes the socket (after a last committing update with
 * `flushOnEndOfAudio`); `max_connection_time` sends `DISCONNECT`. With
 * `modelPassMs`, updates come from the server's transcription loop instead
 * (see `transcription-loop.ts`).
 * @module
 * @internal
 */
import { performance } from 'node:perf_hooks';
import { WebSocket, type RawData } from 'ws';
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { bytesAsFloat32, float32ToPcm16 } from '../../audio/pcm.js';
import { SampleAligner } from '../../transport/binary-frames.js';
import { partialUnits, prefixText, scriptedText } from '../rtzr/recognizer-script.js';
import { ScriptCursor, type Script } from '../script-cursor.js';
import type { FaultState } from './faults.js';
import { TranscriptionLoop, type LoopSegment, type LoopUtterance } from './transcription-loop.js';
import type { WhisperLiveConnectionLogEntry, WhisperLiveEmulatorCounters, WhisperLiveLatency } from './types.js';

const END_OF_AUDIO = 'END_OF_AUDIO';
const MALFORMED_FRAME = '{"uid": "x", "segments": [';

/** The server-wide client registry (`--max_clients`). */
export interface ClientRegistry {
  /** Register a client; false when full. */
  add(session: WhisperLiveEmulatorSession): boolean;
  remove(session: WhisperLiveEmulatorSession): void;
  /** Minutes until the oldest client reaches `max_connection_time`. */
  waitMinutes(): number;
}

/** What a session shares with the server. */
export interface SessionContext {
  readonly id: number;
  readonly resolveScript: (options: Record<string, unknown>) => Script;
  readonly registry: ClientRegistry;
  readonly updateIntervalMs: number;
  readonly flushOnEndOfAudio: boolean;
  readonly maxConnectionTimeMs: number;
  readonly epdMs: number;
  /** The server's transcription loop (model pass time, minimum audio per pass), or undefined for an update every `updateIntervalMs` of audio. */
  readonly loop: { passMs: number; minAudioMs: number } | undefined;
  readonly latency: Readonly<Required<WhisperLiveLatency>>;
  readonly faults: FaultState;
  readonly counters: WhisperLiveEmulatorCounters;
  readonly log: WhisperLiveConnectionLogEntry;
  readonly onClosed: (session: WhisperLiveEmulatorSession) => void;
}

interface Segment {
  start: number;
  end: number;
  text: string;
}

interface Spoken {
  start: number;
  text: string;
  shown: number;
}

function toBuffer(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return data;
}

const sec = (ms: number): string => (ms / 1000).toFixed(3);

/** @internal */
export class WhisperLiveEmulatorSession {
  /** Registered with the registry (counts toward `max_clients`). */
  registered = false;
  startedAt = 0;
  private state: 'options' | 'loading' | 'ready' | 'closed' = 'options';
  private uid = '';
  private script: Script = [];
  /** Utterances of this connection holding a cursor line whose committed segment is not sent yet. */
  private cursorAhead = 0;
  private sameOutputThreshold = 10;
  private loop: TranscriptionLoop | undefined;
  /** Utterances for the loop, oldest first (pruned once committed). */
  private utterances: LoopUtterance[] = [];
  private sendLastN = 10;
  private wordTimestamps = false;
  private format: 'float32' | 'int16' | 'uint8' = 'float32';
  private aligner = new SampleAligner(4);
  private readonly endpointer: Endpointer;
  private received = 0;
  /** Sample count at which the next update is due. */
  private nextTick: number;
  private closeWhenSent = false;
  private count = 0;
  private open: Spoken | undefined;
  /** The last committed segments (at most `send_last_n_segments`); `completedTotal` counts all. */
  private completed: Segment[] = [];
  private completedTotal = 0;
  /** Committed segments (counted from the first) already sent in an update. */
  private sentCompleted = 0;
  private readonly updates: { frame: string; dueAt: number; resent: number; commits?: number }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private pumpTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: SessionContext,
  ) {
    this.endpointer = new Endpointer({ sampleRate: 16000, silenceMs: ctx.epdMs });
    this.nextTick = ctx.updateIntervalMs * 16;
    ws.on('message', (data, isBinary) => this.onMessage(toBuffer(data), isBinary));
    ws.on('error', () => {
      /* close follows */
    });
    ws.on('close', (code) => this.onClose(code));
  }

  /** Drop the connection without a close frame. */
  terminate(): void {
    this.ws.terminate();
    this.onClose(1006);
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private onClose(code: number): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.updates.length = 0;
    this.loop?.stop();
    this.ctx.registry.remove(this);
    this.ctx.log.closedAt = Date.now();
    this.ctx.log.closeCode = code;
    this.ctx.onClosed(this);
  }

  private sendJson(msg: Record<string, unknown>): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify(msg));
    this.ctx.counters.messagesSent++;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (this.state === 'options') {
      this.onOptions(data);
      return;
    }
    // The server reads audio with np.frombuffer: a text frame kills the session.
    if (!isBinary) {
      this.ws.close(1011, 'audio must be binary');
      return;
    }
    if (data.length === END_OF_AUDIO.length && data.toString('latin1') === END_OF_AUDIO) {
      this.onEndOfAudio();
      return;
    }
    this.ctx.counters.framesReceived++;
    this.ctx.counters.audioBytes += data.length;
    if (this.state === 'ready') this.onAudio(data);
  }

  private onOptions(data: Buffer): void {
    const { counters, faults, latency, log } = this.ctx;
    let options: Record<string, unknown>;
    try {
      const v = JSON.parse(data.toString('utf8')) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
      options = v as Record<string, unknown>;
    } catch {
      this.ws.close(1011, 'Failed to decode JSON from client');
      return;
    }
    log.options = options;
    if (typeof options.uid !== 'string') {
      this.ws.close(1011, 'missing uid');
      return;
    }
    this.uid = options.uid;
    if (!this.ctx.registry.add(this)) {
      counters.waitsSent++;
      this.sendJson({ uid: this.uid, status: 'WAIT', message: this.ctx.registry.waitMinutes() });
      this.ws.close(1000);
      return;
    }
    this.registered = true;
    this.startedAt = Date.now();
    this.state = 'loading';
    // Missing keys make the real server fail inside initialize_client: it logs and never answers.
    if (!('language' in options) || !('task' in options) || !('model' in options)) return;
    const fmt = options.audio_format;
    if (fmt === 'int16' || fmt === 'uint8') this.format = fmt;
    else if (fmt !== undefined && fmt !== 'float32') {
      counters.errorsSent++;
      this.sendJson({ uid: this.uid, status: 'ERROR', message: `Unsupported audio_format: ${String(fmt)}` });
      this.ws.close(1000);
      return;
    }
    this.aligner = new SampleAligner(this.format === 'float32' ? 4 : this.format === 'int16' ? 2 : 1);
    if (typeof options.send_last_n_segments === 'number' && options.send_last_n_segments > 0) this.sendLastN = options.send_last_n_segments;
    this.wordTimestamps = options.word_timestamps === true;
    if (typeof options.same_output_threshold === 'number' && options.same_output_threshold >= 0) {
      this.sameOutputThreshold = options.same_output_threshold;
    }
    this.script = this.ctx.resolveScript(options);
    if (this.ctx.loop) this.loop = this.newLoop(this.ctx.loop);
    const fault = faults.takeReadyFault();
    if (fault === 'hang') return;
    const ready = (): void => {
      if (this.state !== 'loading') return;
      if (fault === 'error') {
        counters.errorsSent++;
        this.sendJson({ uid: this.uid, status: 'ERROR', message: `Failed to load model: ${String(options.model)} (emulated)` });
        this.ws.close(1000);
        return;
      }
      this.state = 'ready';
      counters.readySent++;
      this.sendJson({ uid: this.uid, message: 'SERVER_READY', backend: 'faster_whisper' });
      if (options.language === null) this.sendJson({ uid: this.uid, language: 'ko', language_prob: 0.98 });
      this.later(this.ctx.maxConnectionTimeMs, () => this.disconnect());
    };
    if (latency.readyMs > 0) this.later(latency.readyMs, ready);
    else ready();
  }

  private disconnect(): void {
    if (this.state === 'closed') return;
    this.ctx.counters.disconnectsSent++;
    this.sendJson({ uid: this.uid, message: 'DISCONNECT' });
    this.ws.close(1000);
  }

  private decode(bytes: Uint8Array): Int16Array {
    if (this.format === 'int16') return new Int16Array(bytes.slice().buffer);
    if (this.format === 'uint8') return Int16Array.from(bytes, (b) => (b - 128) * 256);
    return float32ToPcm16(bytesAsFloat32(bytes));
  }

  private onAudio(data: Uint8Array): void {
    const { faults, log } = this.ctx;
    const aligned = this.aligner.align(data);
    if (aligned.length === 0) return;
    const pcm = this.decode(aligned);
    if (this.loop) {
      this.onEvents(this.endpointer.push(pcm));
      this.received += pcm.length;
      this.loop.start();
    }
    let off = this.loop ? pcm.length : 0;
    while (off < pcm.length) {
      const take = Math.min(pcm.length - off, this.nextTick - this.received);
      this.onEvents(this.endpointer.push(pcm.subarray(off, off + take)));
      off += take;
      this.received += take;
      if (this.received === this.nextTick) {
        this.update(false);
        this.nextTick += this.ctx.updateIntervalMs * 16;
      }
    }
    log.audioMs = this.received / 16;
    if (faults.disconnects.pending && faults.disconnects.take(log.audioMs)) this.disconnect();
    else if (faults.drops.pending && faults.drops.take(log.audioMs)) this.terminate();
  }

  /** Text of the next utterance: a line of the per-connection script, or the next undelivered line of a shared cursor. */
  private nextText(): string {
    const script = this.script;
    const n = this.count++;
    if (script instanceof ScriptCursor) return script.peek(this.cursorAhead++);
    return scriptedText(script, n);
  }

  /** Committed segments were written to the socket: their cursor lines are delivered. */
  private committedSent(n: number): void {
    if (!(this.script instanceof ScriptCursor)) return;
    for (let i = 0; i < n; i++) {
      this.cursorAhead--;
      this.script.commit();
    }
  }

  private onEvents(events: readonly EndpointerEvent[]): void {
    if (this.loop) {
      for (const ev of events) {
        if (ev.type === 'voicestart') this.utterances.push({ start: ev.startMs, text: this.nextText() });
        else {
          const open = this.utterances.findLast((u) => u.end === undefined);
          if (open) open.end = Math.max(ev.endMs, open.start + 1);
        }
      }
      return;
    }
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        this.open = { start: ev.startMs, text: this.nextText(), shown: 0 };
      } else if (this.open && this.open.text === '') {
        this.open = undefined; // the server's VAD dropped it: no segment
      } else if (this.open) {
        this.completed.push({ start: this.open.start, end: Math.max(ev.endMs, this.open.start + 1), text: this.open.text });
        if (this.completed.length > this.sendLastN) this.completed = this.completed.slice(-this.sendLastN);
        this.completedTotal++;
        this.ctx.counters.segmentsCompleted++;
        this.open = undefined;
      }
    }
  }

  /** Queue a transcript update when there is news (a new committed segment) or speech in progress. */
  private update(final: boolean): void {
    const positionMs = this.received / 16;
    let partial = '';
    if (this.open && !final) {
      const o = this.open;
      o.shown = partialUnits(o.text, positionMs - o.start, o.shown);
      partial = prefixText(o.text, o.shown);
    }
    const news = this.completedTotal > this.sentCompleted;
    if (!news && partial === '') return;
    const segments: Record<string, unknown>[] = this.completed.map((s) => this.segmentJson(s, true));
    if (partial !== '') segments.push({ start: sec(this.open!.start), end: sec(positionMs), text: ` ${partial}`, completed: false });
    // segments in this update that an earlier update already carried
    const first = this.completedTotal - this.completed.length;
    const resent = Math.max(0, this.sentCompleted - first);
    const commits = this.completedTotal - this.sentCompleted;
    this.sentCompleted = this.completedTotal;
    this.updates.push({
      frame: JSON.stringify({ uid: this.uid, segments }),
      dueAt: performance.now() + this.ctx.latency.processingMs,
      resent,
      commits,
    });
    this.pump();
  }

  private newLoop(o: { passMs: number; minAudioMs: number }): TranscriptionLoop {
    return new TranscriptionLoop({
      ...o,
      sameOutputThreshold: this.sameOutputThreshold,
      sendLastN: this.sendLastN,
      later: (ms, fn) => this.later(ms, fn),
      receivedMs: () => this.received / 16,
      utterances: () => this.utterances,
      prune: (ms) => {
        this.utterances = this.utterances.filter((u) => u.end === undefined || u.end > ms);
      },
      sendUpdate: (segments, fresh) => this.queueLoopUpdate(segments, fresh),
      onPass: ({ from, to, discarded }) => {
        const passes = (this.ctx.log.passes ??= []);
        passes.push({ fromMs: from, toMs: to, discarded });
        if (passes.length > 1000) passes.shift();
      },
    });
  }

  /** An update of the transcription loop: sent at once (the model pass was the processing time). */
  private queueLoopUpdate(segments: readonly LoopSegment[], fresh: readonly LoopSegment[]): void {
    const resent = segments.filter((s) => s.completed && !fresh.includes(s)).length;
    this.ctx.counters.segmentsCompleted += fresh.length;
    this.updates.push({
      frame: JSON.stringify({ uid: this.uid, segments: segments.map((s) => this.segmentJson(s, s.completed)) }),
      dueAt: performance.now(),
      resent,
      commits: fresh.length,
    });
    this.pump();
  }

  private segmentJson(s: Segment, completed: boolean): Record<string, unknown> {
    const json: Record<string, unknown> = { start: sec(s.start), end: sec(s.end), text: ` ${s.text}`, completed };
    if (this.wordTimestamps) {
      const words = s.text.split(/\s+/u).filter((w) => w.length > 0);
      const total = words.reduce((a, w) => a + [...w].length, 0) || 1;
      let chars = 0;
      json.words = words.map((w) => {
        const ws = s.start + ((s.end - s.start) * chars) / total;
        chars += [...w].length;
        const we = s.start + ((s.end - s.start) * chars) / total;
        return { word: ` ${w}`, start: sec(ws), end: sec(we), probability: 0.93 };
      });
    }
    return json;
  }

  private pump(): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
    if (this.state === 'closed') return;
    const now = performance.now();
    while (this.updates.length > 0 && this.updates[0]!.dueAt <= now) {
      this.sendUpdate(this.updates.shift()!);
    }
    const head = this.updates[0];
    if (head) this.pumpTimer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(head.dueAt - now)));
    else if (this.closeWhenSent) this.ws.close(1000);
  }

  private sendUpdate(u: { frame: string; resent: number; commits?: number }): void {
    const { faults, counters } = this.ctx;
    if (faults.isStalled || this.ws.readyState !== WebSocket.OPEN) return;
    const fault = faults.takeUpdateFault();
    if (fault === 'error') {
      counters.errorsSent++;
      this.sendJson({ uid: this.uid, status: 'ERROR', message: 'emulated transcription failure' });
      this.ws.close(1011);
      return;
    }
    const commits = fault === undefined ? (u.commits ?? 0) : 0;
    if (commits > 0 && this.script instanceof ScriptCursor) this.ws.send(u.frame, (err) => err || this.committedSent(commits));
    else this.ws.send(fault === 'malformed' ? MALFORMED_FRAME : u.frame);
    counters.messagesSent++;
    if (fault === undefined) {
      counters.updatesSent++;
      counters.segmentsResent += u.resent;
    }
  }

  private onEndOfAudio(): void {
    this.ctx.counters.endOfAudioReceived++;
    if (this.loop) {
      this.loop.stop();
      if (this.state === 'ready' && this.ctx.flushOnEndOfAudio) {
        this.onEvents(this.endpointer.flush());
        const { segments, fresh } = this.loop.flush();
        this.queueLoopUpdate(segments, fresh);
        this.closeWhenSent = true;
        this.pump();
        return;
      }
    }
    if (this.state !== 'ready' || !this.ctx.flushOnEndOfAudio) {
      // No flush: the transcription thread stops; updates not yet sent are lost.
      this.updates.length = 0;
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      this.pumpTimer = undefined;
      this.ws.close(1000);
      return;
    }
    this.onEvents(this.endpointer.flush());
    this.update(true);
    this.closeWhenSent = true;
    this.pump();
  }
}
