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
}

/** @internal */
export class SpeechTimeline {
  private utterances: SpokenUtterance[] = [];
  private count = 0;

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
      if (ev.type === 'speechstart') {
        const text = this.nextText();
        const words = text
          .split(/\s+/u)
          .filter((w) => w.length > 0)
          .map((w) => ({ text: w, chars: [...w].length }));
        this.utterances.push({ index: this.count++, start: ev.startMs, words, fixed: 0 });
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
    const take = (key: string, text: string, start: number, end: number): void => {
      const len = end - start;
      const inside = Math.min(end, to) - Math.max(start, from);
      const hit = len <= 0 ? start >= from && start < to : inside / len >= coverage - 1e-9;
      if (hit) out.push({ key, text, start, end, inside: len <= 0 ? 1 : Math.min(1, inside / len) });
    };
    for (const u of this.utterances) {
      for (let i = 0; i < u.fixed; i++) {
        const w = u.words[i]!;
        take(`${u.index}:${i}`, w.text, w.start!, w.end!);
      }
      const next = u.words[u.fixed];
      if (partial && next && u.end === undefined) {
        const start = u.fixed > 0 ? u.words[u.fixed - 1]!.end! : u.start;
        const end = start + next.chars * MS_PER_CHAR;
        if (end > to) take(`${u.index}:${u.fixed}`, next.text, start, end);
      }
    }
    return out;
  }

  /** Forget closed utterances that ended before `ms`. */
  prune(ms: number): void {
    this.utterances = this.utterances.filter((u) => u.end === undefined || u.end >= ms || u.fixed < u.words.length);
  }

  private open(): SpokenUtterance | undefined {
    const last = this.utterances[this.utterances.length - 1];
    return last && last.end === undefined ? last : undefined;
  }

  /** Close `u` at `endMs`: spread the words not yet fixed over what is left of it. */
  private close(u: SpokenUtterance, endMs: number): void {
    u.end = endMs;
    if (this.script instanceof ScriptCursor) {
      // The server has no finals: an utterance's line is delivered once its audio is complete.
      this.cursorAhead--;
      this.script.commit();
    }
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
