/**
 * The WhisperLive server's transcription loop (collabora/WhisperLive
 * `backend/base.py` `speech_to_text` and `update_segments`), for the emulator:
 *
 * - a pass runs once at least `minAudioMs` of audio is buffered after the end
 *   of the last committed segment (`timestamp_offset`), and transcribes all of
 *   it; it takes `passMs` of wall time (the model), and the window is the audio
 *   received when the pass started;
 * - no speech in the window: the offset jumps to its end, no update (the
 *   server's VAD returned nothing), the next pass comes 250 ms later;
 * - otherwise every segment but the last is committed (the offset moves to the
 *   end of the last one), the last is the in-progress segment; the same
 *   in-progress text more than `sameOutputThreshold` times in a row is
 *   committed too; each pass sends one update (the last N committed segments
 *   plus the in-progress one);
 * - passes run back to back (100 ms apart while the output repeats);
 * - `stop()` (END_OF_AUDIO, or the client left) ends the loop: the update of
 *   the pass under way is never sent (the server's send fails, as its log says).
 *
 * Each utterance the emulator's endpointer detects is one Whisper segment:
 * its whole text once the utterance has ended inside the window, else the
 * words heard so far (growing with time, never the whole text; empty at first).
 * @module
 * @internal
 */
import { partialUnits, prefixText } from '../rtzr/recognizer-script.js';

/** An utterance detected in the audio received (ms since the connection's first audio). */
export interface LoopUtterance {
  start: number;
  /** Undefined while the endpointer has it open. */
  end?: number;
  text: string;
}

/** A segment of an update. */
export interface LoopSegment {
  start: number;
  end: number;
  text: string;
  completed: boolean;
  /** The utterance it transcribes. */
  utterance: LoopUtterance;
}

/** What the loop needs from its session. */
export interface TranscriptionLoopInit {
  passMs: number;
  minAudioMs: number;
  sameOutputThreshold: number;
  sendLastN: number;
  /** Run `fn` after `ms` of wall time unless the session closes first. */
  later(ms: number, fn: () => void): void;
  /** Audio received so far, ms. */
  receivedMs(): number;
  /** The utterances detected so far, oldest first. */
  utterances(): readonly LoopUtterance[];
  /** Forget utterances that end before `ms` (committed). */
  prune(ms: number): void;
  /** Send an update; `fresh` are the committed segments it carries for the first time. */
  sendUpdate(segments: readonly LoopSegment[], fresh: readonly LoopSegment[]): void;
  /** A pass finished, or was under way when the loop stopped (`discarded`: its update is never sent). */
  onPass?(info: { from: number; to: number; tookMs: number; discarded: boolean }): void;
}

/** @internal */
export class TranscriptionLoop {
  private offset = 0;
  private transcript: LoopSegment[] = [];
  private prevOut = '';
  private sameCount = 0;
  private started = false;
  private stopped = false;
  /** The pass under way. */
  private running: { from: number; to: number; startedAt: number } | undefined;

  constructor(private readonly o: TranscriptionLoopInit) {}

  /** The first audio arrived: start looping. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.step();
  }

  /** END_OF_AUDIO or the client left: no more passes, no more updates (the pass under way is discarded). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const r = this.running;
    this.running = undefined;
    if (r) this.o.onPass?.({ from: r.from, to: r.to, tookMs: performance.now() - r.startedAt, discarded: true });
  }

  /** Commit everything heard up to now and return the update that says so (a server that flushes). */
  flush(): { segments: LoopSegment[]; fresh: LoopSegment[] } {
    const fresh = this.heard(this.offset, this.o.receivedMs(), true).map((s) => ({ ...s, completed: true }));
    this.commit(fresh);
    return { segments: this.transcript.slice(-this.o.sendLastN), fresh };
  }

  private step(): void {
    if (this.stopped) return;
    const from = this.offset;
    const to = this.o.receivedMs();
    if (to - from < this.o.minAudioMs) {
      this.o.later(100, () => this.step());
      return;
    }
    const startedAt = performance.now();
    this.running = { from, to, startedAt };
    this.o.later(this.o.passMs, () => this.finish(from, to, performance.now() - startedAt));
  }

  private finish(from: number, to: number, tookMs: number): void {
    if (this.stopped) return; // discarded by stop(): the server's send to a client that left fails
    this.running = undefined;
    this.o.onPass?.({ from, to, tookMs, discarded: false });
    const segs = this.heard(from, to, false);
    if (segs.length === 0) {
      this.offset = Math.max(this.offset, to);
      this.o.later(250, () => this.step());
      return;
    }
    const fresh = segs.slice(0, -1).map((s) => ({ ...s, completed: true }));
    this.commit(fresh);
    let last: LoopSegment | undefined = segs[segs.length - 1]!;
    let repeated = false;
    if (last.text === this.prevOut) {
      repeated = true;
      if (++this.sameCount > this.o.sameOutputThreshold) {
        const forced = { ...last, completed: true };
        this.commit([forced]);
        fresh.push(forced);
        last = undefined;
        this.sameCount = 0;
        this.prevOut = '';
      }
    } else {
      this.sameCount = 0;
      this.prevOut = last.text;
    }
    const segments = this.transcript.slice(-this.o.sendLastN);
    if (last) segments.push(last);
    this.o.sendUpdate(segments, fresh);
    this.o.later(repeated ? 100 : 0, () => this.step());
  }

  private commit(segs: readonly LoopSegment[]): void {
    for (const s of segs) {
      this.transcript.push(s);
      this.offset = Math.max(this.offset, s.end);
    }
    if (this.transcript.length > this.o.sendLastN) this.transcript = this.transcript.slice(-this.o.sendLastN);
    this.o.prune(this.offset);
  }

  /** The segments a pass over `[from, to)` produces. `all`: treat open utterances as ended. */
  private heard(from: number, to: number, all: boolean): LoopSegment[] {
    const out: LoopSegment[] = [];
    for (const u of this.o.utterances()) {
      if (u.text === '' || u.start >= to || (u.end !== undefined && u.end <= from)) continue; // '': the VAD dropped it
      const start = Math.max(u.start, from);
      if (all || (u.end !== undefined && u.end <= to)) {
        out.push({ start, end: Math.min(u.end ?? to, to), text: u.text, completed: false, utterance: u });
        continue;
      }
      // speech the model has not made words of yet still counts (the server's VAD heard it): empty text
      const shown = partialUnits(u.text, to - u.start, 0);
      out.push({ start, end: to, text: shown > 0 ? prefixText(u.text, shown) : '', completed: false, utterance: u });
    }
    return out;
  }
}
