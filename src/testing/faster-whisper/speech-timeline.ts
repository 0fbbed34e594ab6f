/**
 * The emulator's "recogniser": places the scripted words of each utterance
 * the endpointer detects on the audio timeline, so a chunk's transcription is
 * the words heard inside it.
 *
 * While an utterance is open, words are laid at {@link MS_PER_CHAR} from its
 * start and fixed once audio up to their end has arrived; when it closes, the
 * words not yet fixed are spread over the rest of it in proportion to their
 * length. A word's time never changes once fixed, so overlapping chunks agree
 * on it: a word cut by a chunk edge is heard in each chunk holding at least
 * `coverage` of it (both, when the cut is near its middle).
 * @module
 * @internal
 */
import type { EndpointerEvent } from '../../audio/endpointer.js';
import { MS_PER_CHAR, scriptedText } from '../rtzr/recognizer-script.js';
import { ScriptCursor, type Script } from '../script-cursor.js';

interface ScriptWord {
  text: string;
  chars: number;
  /** ms; set once fixed. */
  start?: number;
  end?: number;
}

interface SpokenUtterance {
  index: number;
  /** Its line of a shared cursor was committed (a reply with its last word was written). */
  delivered?: boolean;
  start: number;
  end?: number;
  words: ScriptWord[];
  /** Words fixed so far (a prefix). */
  fixed: number;
}

/** A word heard in a chunk: `key` identifies it across chunks. */
export interface HeardWord {
  key: string;
  text: string;
  /** ms of the connection's audio. */
  start: number;
  end: number;
  /** Share of the word inside the chunk (1: whole). */
  inside: number;
  /** The last word of its utterance: a reply carrying it delivers the utterance's script line. */
  last: boolean;
}

/** @internal */
export class SpeechTimeline {
  private utterances: SpokenUtterance[] = [];
  private count = 0;
  /** Utterances whose cursor line is not delivered yet, by index (bounded by the audio's utterances). */
  private readonly byIndex = new Map<number, SpokenUtterance>();

  /** Utterances of this connection holding a line of a shared cursor that is not committed yet. */
  private cursorAhead = 0;

  constructor(private readonly script: Script) {}

  /** The text of the next utterance: a per-connection script line, or the next line of a shared cursor. */
  private nextText(): string {
    if (this.script instanceof ScriptCursor) return this.script.peek(this.cursorAhead++);
    return scriptedText(this.script, this.count);
  }

  /** Apply endpointer events (ms). */
  onEvents(events: readonly EndpointerEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        const text = this.nextText();
        const words = text
          .split(/\s+/u)
          .filter((w) => w.length > 0)
          .map((w) => ({ text: w, chars: [...w].length }));
        const u: SpokenUtterance = { index: this.count++, start: ev.startMs, words, fixed: 0 };
        this.utterances.push(u);
        if (this.script instanceof ScriptCursor) this.byIndex.set(u.index, u);
      } else {
        const u = this.open();
        if (u) this.close(u, ev.endMs);
      }
    }
  }

  /** Fix the words of the open utterance whose (speaking-rate) end is inside the audio received. */
  advance(positionMs: number): void {
    const u = this.open();
    if (!u) return;
    let at = u.fixed > 0 ? u.words[u.fixed - 1]!.end! : u.start;
    while (u.fixed < u.words.length) {
      const w = u.words[u.fixed]!;
      const end = at + w.chars * MS_PER_CHAR;
      if (end > positionMs) break;
      w.start = at;
      w.end = end;
      at = end;
      u.fixed++;
    }
  }

  /**
   * Words with at least `coverage` of their duration inside `[from, to)` ms, in spoken order. With
   * `partial`, also the word being spoken at `to` (its end not received yet), when that much of it
   * (at the speaking rate) is inside: a chunk that cuts a word hears part of it.
   */
  heard(from: number, to: number, coverage: number, partial = false): HeardWord[] {
    const out: HeardWord[] = [];
    const take = (u: SpokenUtterance, i: number, start: number, end: number, whole: boolean): void => {
      const len = end - start;
      const inside = Math.min(end, to) - Math.max(start, from);
      const hit = len <= 0 ? start >= from && start < to : inside / len >= coverage - 1e-9;
      const share = len <= 0 ? 1 : Math.min(1, inside / len);
      const last = whole && i === u.words.length - 1;
      if (hit) out.push({ key: `${u.index}:${i}`, text: u.words[i]!.text, start, end, inside: share, last });
    };
    for (const u of this.utterances) {
      for (let i = 0; i < u.fixed; i++) {
        const w = u.words[i]!;
        take(u, i, w.start!, w.end!, true);
      }
      const next = u.words[u.fixed];
      if (partial && next && u.end === undefined) {
        const start = u.fixed > 0 ? u.words[u.fixed - 1]!.end! : u.start;
        const end = start + next.chars * MS_PER_CHAR;
        if (end > to) take(u, u.fixed, start, end, false);
      }
    }
    return out;
  }

  /** Forget closed utterances that ended before `ms`. */
  prune(ms: number): void {
    this.utterances = this.utterances.filter((u) => u.end === undefined || u.end >= ms || u.fixed < u.words.length);
    // an utterance with no word can never be delivered by a reply: its line goes once its audio is past
    for (const [i, u] of this.byIndex) {
      if (u.words.length === 0 && u.end !== undefined && u.end < ms) {
        this.byIndex.delete(i);
        this.cursorAhead--;
        (this.script as ScriptCursor).commit();
      }
    }
  }

  private open(): SpokenUtterance | undefined {
    const last = this.utterances[this.utterances.length - 1];
    return last && last.end === undefined ? last : undefined;
  }

  /**
   * A reply carrying these words was written to the client. The server has no finals: with a
   * shared cursor, an utterance's line is delivered once a reply with its last word went out (not
   * when the reply was withheld by a stall or lost with a dropped connection).
   */
  delivered(words: readonly HeardWord[]): void {
    if (!(this.script instanceof ScriptCursor)) return;
    for (const w of words) {
      if (!w.last) continue;
      const index = Number(w.key.slice(0, w.key.indexOf(':')));
      const u = this.byIndex.get(index);
      if (!u || u.delivered) continue;
      u.delivered = true;
      this.byIndex.delete(index);
      this.cursorAhead--;
      this.script.commit();
    }
  }

  /** Close `u` at `endMs`: spread the words not yet fixed over what is left of it. */
  private close(u: SpokenUtterance, endMs: number): void {
    u.end = endMs;
    const from = u.fixed > 0 ? u.words[u.fixed - 1]!.end! : u.start;
    const to = Math.max(from, endMs);
    const rest = u.words.slice(u.fixed);
    const total = rest.reduce((a, w) => a + w.chars, 0) || 1;
    let chars = 0;
    for (const w of rest) {
      w.start = from + ((to - from) * chars) / total;
      chars += w.chars;
      w.end = from + ((to - from) * chars) / total;
    }
    u.fixed = u.words.length;
  }
}
