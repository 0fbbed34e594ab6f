/**
 * Turns the server's chunk replies into utterances (partials and finals).
 *
 * The server says nothing about utterances: no ids, no finals. The session's
 * own `Endpointer` runs on the audio it sends and decides them; this module
 * maps the words of each reply onto them:
 *
 * 1. Reply k is the transcription of chunk k, whose audio time is known
 *    ({@link ChunkWindows}, mapped through {@link PaddedTimeline}).
 * 2. Stock hallucinations are removed ({@link HallucinationFilter}); text of
 *    a chunk in which the endpointer found no speech is dropped.
 * 3. Every word gets a time: the server's word (or segment) times when the
 *    reply carries them (our reference server, faster-whisper's
 *    `word_timestamps`), else an estimate: the chunk's words laid end to end
 *    over its speech in proportion to their length.
 * 4. The words heard twice (chunks k-1 and k share `overlap` of audio) are
 *    removed, unless that shared audio was silence:
 *    - **by time**, when both replies carry times: a word of chunk k in the
 *      shared audio that overlaps in time a word chunk k-1 gave is the same
 *      word heard twice; chunk k-1's version stays, unless chunk k-1's end cut
 *      it (half a word, often mangled) while chunk k holds it from its start:
 *      then chunk k's version replaces it;
 *    - **by text** otherwise: an utterance that starts inside the shared audio
 *      is heard from its start by chunk k, so chunk k-1's words of it (its
 *      beginning, cut by chunk k-1's end) are taken back; for the utterance
 *      that runs across the shared audio, the run of words the end of the
 *      previous replies and the start of this one share
 *      ({@link matchOverlap}), tolerating a mangled edge on either side. The run is looked for among the previous
 *      replies' words in the shared audio (give or take {@link EDGE_TOLERANCE_MS}
 *      of estimate error); only words whose estimated start lies in the shared
 *      audio can be dropped, and only words after the repeated run taken back (later than audio both chunks heard: inside the shared audio
 *      by order), so a word of audio outside it is never removed, as far as
 *      the estimate goes. Without times, a word said twice across the edge can
 *      still be taken for a repeat.
 * 5. Each word goes to the utterance that holds its middle (the nearest one
 *    the chunk overlaps otherwise).
 * 6. An utterance becomes final once the endpointer has closed it and every
 *    chunk that starts before its end has been answered: no later reply can
 *    hold its words. Utterances without any word produce no event. Finals
 *    carry `words` (stream-absolute) when all their words had server times.
 * @module
 * @internal
 */
import type { EndpointerEvent } from '../../audio/endpointer.js';
import type { Logger } from '../../logger.js';
import type { ProviderResult } from '../provider.js';
import type { HallucinationFilter } from './hallucinations.js';
import type { ReplySegment } from './messages.js';
import { matchOverlap } from './overlap.js';
import type { ChunkWindows, PaddedTimeline } from './timeline.js';
import { splitWords } from './words.js';

/** Counters the assembler updates (the provider's `stats`). */
export interface AssemblerStats {
  replies: number;
  hallucinationsDropped: number;
  overlapWordsRemoved: number;
  /** Words of a previous reply taken back because the next chunk heard them whole (a mangled edge, or by time). */
  overlapWordsRetracted: number;
  /** Replies whose words carried times (de-duplicated by time). */
  timedReplies: number;
  textWithoutSpeechDropped: number;
}

/** @internal */
export interface AssemblerInit {
  provider: string;
  windows: ChunkWindows;
  timeline: PaddedTimeline;
  filter: HallucinationFilter;
  maxOverlapWords: number;
  interimResults: boolean;
  includeRaw: boolean;
  stats: AssemblerStats;
  logger: Logger;
  emit(result: ProviderResult): void;
}

/** A word taken from a reply; times are stream ms. */
interface Word {
  text: string;
  start: number;
  end: number;
  /** Index of the reply it came from. */
  reply: number;
  /** The time came from the server (else it is an estimate). */
  timed: boolean;
  confidence?: number;
  utt?: Utterance;
}

interface Utterance {
  segment: number;
  /** Stream ms. */
  start: number;
  /** Stream ms; undefined while the endpointer has it open. */
  end?: number;
  words: Word[];
  raw?: unknown;
}

/**
 * Utterances waiting for replies, at most. Beyond it the server lags far behind the audio (or has
 * stalled): the oldest is emitted with the words it has, so memory stays bounded.
 */
const MAX_PENDING = 64;

interface Voiced {
  utt: Utterance;
  from: number;
  to: number;
}

const mid = (w: { start: number; end: number }): number => (w.start + w.end) / 2;

/**
 * How far an estimated word time (text-only replies) may be off, ms: about one word. A previous
 * reply's word ending this close before the shared audio may still be the twin of a word there.
 */
const EDGE_TOLERANCE_MS = 250;

/** A word time this close to a chunk edge counts as cut by it, ms (Whisper's timestamps step by 20 ms). */
const EDGE_EPSILON_MS = 40;

/**
 * Two timed words are the same audio when they share at least half of the shorter one (a
 * neighbouring word that only touches it, as word times of a real recogniser do, is not).
 */
function sameTime(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  const shorter = Math.min(a.end - a.start, b.end - b.start);
  const shared = Math.min(a.end, b.end) - Math.max(a.start, b.start);
  return shorter <= 1 ? shared >= 0 : shared >= 0.5 * shorter;
}

/** @internal */
export class UtteranceAssembler {
  /** Utterances not yet final, oldest first. */
  private readonly pending: Utterance[] = [];
  private nextSegment = 0;
  private replies = 0;
  /** Words accepted from recent replies (the overlap candidates), bounded. */
  private recent: Word[] = [];
  /** The last reply carried times. */
  private lastTimed = false;
  /** Stream ms the endpointer has analysed. */
  positionMs = 0;

  constructor(private readonly init: AssemblerInit) {}

  /** Replies received so far. */
  get repliesReceived(): number {
    return this.replies;
  }

  /** End (stream ms) of the last utterance closed by the endpointer but not yet final, if any. */
  get lastClosedEnd(): number | undefined {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const e = this.pending[i]!.end;
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** Apply endpointer decisions (times in stream ms). */
  onEndpointer(events: readonly EndpointerEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        this.pending.push({ segment: this.nextSegment++, start: ev.startMs, words: [] });
        if (this.pending.length > MAX_PENDING) this.evictOldest();
      } else {
        const open = this.pending.findLast((u) => u.end === undefined);
        if (open) open.end = Math.max(open.start, ev.endMs);
      }
    }
    if (events.length > 0) this.settle();
  }

  /** One reply: the transcription of the next chunk (`segments` with times, when the server sends them). */
  onReply(text: string, raw: unknown, segments?: readonly ReplySegment[]): void {
    const { windows, timeline, stats, logger, provider } = this.init;
    const k = this.replies++;
    stats.replies++;
    const from = timeline.toStream(windows.start(k));
    const to = timeline.toStream(windows.end(k));
    const voiced = this.voicedIn(from, to);
    const timed = segments !== undefined && segments.length > 0;
    let words = timed ? this.timedWords(k, segments) : this.estimatedWords(k, this.filter(k, text), voiced);
    if (timed) stats.timedReplies++;
    if (words.length > 0 && voiced.length === 0) {
      stats.textWithoutSpeechDropped++;
      logger.debug('faster-whisper: dropped text of a chunk without speech', { provider, chunk: k, words: words.length });
      words = [];
    }
    const changed = new Set<Utterance>();
    if (words.length > 0) {
      const overlapEnd = k > 0 ? timeline.toStream(windows.end(k - 1)) : from;
      // No speech in the shared audio: the same words cannot have been heard twice.
      if (k > 0 && overlapEnd > from && this.voicedIn(from, overlapEnd).length > 0) {
        words = timed && this.lastTimed
          ? this.dedupByTime(k, words, from, overlapEnd, changed)
          : this.dedupByText(k, words, from, overlapEnd, changed);
      }
      for (const w of words) {
        const utt = this.ownerOf(w, voiced);
        w.utt = utt;
        utt.words.push(w);
        if (this.init.includeRaw) utt.raw = raw;
        changed.add(utt);
        this.recent.push(w);
      }
      const keep = this.init.maxOverlapWords * 2;
      if (this.recent.length > keep) this.recent = this.recent.slice(-keep);
    }
    this.lastTimed = timed;
    this.settle();
    if (!this.init.interimResults) return;
    for (const utt of changed) {
      if (!this.pending.includes(utt) || utt.words.length === 0) continue; // final already, or emptied
      const endMs = Math.min(utt.end ?? this.positionMs, to);
      this.emit('partial', utt, Math.max(utt.start, endMs), raw);
    }
  }

  /** Emit the finals of utterances whose chunks have all been answered, in order. */
  settle(): void {
    const { windows, timeline } = this.init;
    for (;;) {
      const u = this.pending[0];
      if (!u || u.end === undefined) break;
      if (this.replies < windows.startingBefore(timeline.toServer(u.end))) break;
      this.pending.shift();
      if (u.words.length > 0) this.emit('final', u, u.end, u.raw);
    }
    timeline.prune(windows.start(this.replies));
  }

  /** Emit every pending utterance that has words as final (end of session, every reply in). */
  finishAll(): void {
    while (this.pending.length > 0) {
      const u = this.pending.shift()!;
      if (u.words.length > 0) this.emit('final', u, u.end ?? Math.max(u.start, this.positionMs), u.raw);
    }
  }

  /** The words of a text-only reply after the hallucination filter. */
  private filter(k: number, text: string): string[] {
    const { words, removed } = this.init.filter.apply(text);
    if (removed.length > 0) {
      this.init.stats.hallucinationsDropped += removed.length;
      this.init.logger.debug('faster-whisper: dropped stock hallucinations', { provider: this.init.provider, chunk: k, removed });
    }
    return words;
  }

  /** Words with the server's times (word times, else each segment's words spread over the segment). */
  private timedWords(k: number, segments: readonly ReplySegment[]): Word[] {
    const { windows, timeline } = this.init;
    const chunkStart = windows.start(k);
    const stream = (ms: number): number => timeline.toStream(chunkStart + ms);
    const all: Word[] = [];
    for (const seg of segments) {
      if (seg.words && seg.words.length > 0) {
        for (const w of seg.words) {
          const text = w.text.trim();
          if (text === '') continue;
          const word: Word = { text, start: stream(w.start), end: stream(w.end), reply: k, timed: true };
          if (w.probability !== undefined) word.confidence = w.probability;
          all.push(word);
        }
        continue;
      }
      for (const p of spread(splitWords(seg.text), [{ from: seg.start, to: seg.end }])) {
        all.push({ text: p.text, start: stream(p.start), end: stream(p.end), reply: k, timed: true });
      }
    }
    // The hallucination filter works on text: keep the timed words it keeps, in order.
    const kept = this.filter(k, all.map((w) => w.text).join(' '));
    const out: Word[] = [];
    let i = 0;
    for (const w of all) {
      if (i < kept.length && kept[i] === w.text) {
        out.push(w);
        i++;
      }
    }
    return out;
  }

  /** Words of a text-only reply, with times estimated over the chunk's speech. */
  private estimatedWords(k: number, texts: readonly string[], voiced: readonly Voiced[]): Word[] {
    if (texts.length === 0 || voiced.length === 0) return texts.map((text) => ({ text, start: 0, end: 0, reply: k, timed: false }));
    return spread(texts, voiced).map((p) => ({ text: p.text, start: p.start, end: p.end, reply: k, timed: false }));
  }

  /**
   * By time: a word of this reply in the shared audio `[from, overlapEnd)` that overlaps (in time)
   * words an earlier reply gave is heard twice. One version stays: the earlier one, unless the
   * earlier chunk's end cut its version and this chunk holds the word from its start (then the
   * earlier version is taken back: half a word, often mangled).
   */
  private dedupByTime(k: number, words: Word[], from: number, overlapEnd: number, changed: Set<Utterance>): Word[] {
    const earlier = this.recent.filter((w) => w.reply < k && w.timed && w.end > from - EDGE_EPSILON_MS);
    const taken = new Set<Word>();
    const kept: Word[] = [];
    let removed = 0;
    for (const w of words) {
      const twins = w.start >= overlapEnd ? [] : earlier.filter((e) => !taken.has(e) && sameTime(e, w));
      if (twins.length === 0) {
        kept.push(w);
        continue;
      }
      const earlierCut = twins[twins.length - 1]!.end >= overlapEnd - EDGE_EPSILON_MS;
      const thisCut = w.start <= from + EDGE_EPSILON_MS;
      if (earlierCut && !thisCut) {
        for (const t of twins) taken.add(t);
        kept.push(w);
      } else removed++;
    }
    this.retract([...taken], changed);
    this.init.stats.overlapWordsRemoved += removed;
    return kept;
  }

  /**
   * By text. An utterance that starts inside the shared audio is heard from its start by this chunk
   * (the previous one only heard its beginning, cut at its end): the previous replies' words of it
   * are taken back, this reply's kept. For the utterance that runs across the shared audio, drop
   * the leading words that repeat the previous replies and take back the previous reply's mangled
   * tail ({@link matchOverlap}), both only among words placed in the shared audio.
   */
  private dedupByText(k: number, words: Word[], from: number, overlapEnd: number, changed: Set<Utterance>): Word[] {
    const chunkStart = this.init.windows.start(k);
    const fresh = (u: Utterance | undefined): boolean => u !== undefined && u.start >= from;
    // words of the previous replies in (or, the estimate being rough, near) the shared audio
    const near = this.recent.filter((w) => w.reply < k && this.init.windows.end(w.reply) > chunkStart && w.end > from - EDGE_TOLERANCE_MS);
    this.retract(
      near.filter((w) => fresh(w.utt)),
      changed,
    );
    const candidates = near.filter((w) => !fresh(w.utt));
    if (candidates.length === 0) return words;
    let maxRemove = 0;
    while (maxRemove < words.length && words[maxRemove]!.start < overlapEnd) maxRemove++;
    // A word taken back follows the repeated run in the previous reply: later than audio both chunks
    // heard, so inside the shared audio by order (the previous chunk ends where it ends).
    const m = matchOverlap(
      candidates.map((w) => w.text),
      words.map((w) => w.text),
      { maxWords: this.init.maxOverlapWords, maxRemove, maxRetract: candidates.length },
    );
    if (m.retract > 0) this.retract(candidates.slice(-m.retract), changed);
    this.init.stats.overlapWordsRemoved += m.remove;
    return words.slice(m.remove);
  }

  /** Take words back from their (pending) utterances. */
  private retract(words: readonly Word[], changed: Set<Utterance>): void {
    if (words.length === 0) return;
    const gone = new Set(words);
    let n = 0;
    for (const w of words) {
      const utt = w.utt;
      if (!utt || !this.pending.includes(utt)) continue; // already final: it stays
      utt.words = utt.words.filter((x) => x !== w);
      changed.add(utt);
      n++;
    }
    this.recent = this.recent.filter((w) => !gone.has(w));
    this.init.stats.overlapWordsRetracted += n;
  }

  /** The utterance holding the word's middle, else the nearest one the chunk overlaps. */
  private ownerOf(w: Word, voiced: readonly Voiced[]): Utterance {
    const m = mid(w);
    let best = voiced[0]!;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const v of voiced) {
      const d = m < v.from ? v.from - m : m > v.to ? m - v.to : 0;
      if (d < bestDistance) {
        best = v;
        bestDistance = d;
      }
    }
    return best.utt;
  }

  private evictOldest(): void {
    const u = this.pending.shift()!;
    this.init.logger.warn('faster-whisper: replies lag far behind the audio; emitting an utterance before its chunks are answered', {
      provider: this.init.provider,
      pending: this.pending.length + 1,
      replies: this.replies,
    });
    if (u.words.length > 0) this.emit('final', u, u.end ?? u.start, u.raw);
  }

  private emit(type: 'partial' | 'final', u: Utterance, endMs: number, raw: unknown): void {
    const r: ProviderResult = {
      type,
      segment: u.segment,
      text: u.words.map((w) => w.text).join(' '),
      startMs: Math.round(u.start),
      endMs: Math.round(endMs),
    };
    if (type === 'final' && u.words.every((w) => w.timed)) {
      r.words = u.words.map((w) => ({
        text: w.text,
        startMs: Math.round(w.start),
        endMs: Math.round(w.end),
        ...(w.confidence === undefined ? {} : { confidence: w.confidence }),
      }));
    }
    if (this.init.includeRaw && raw !== undefined) r.raw = raw;
    this.init.emit(r);
  }

  /** Speech of pending utterances inside `[from, to)` (stream ms). */
  private voicedIn(from: number, to: number): Voiced[] {
    const out: Voiced[] = [];
    for (const utt of this.pending) {
      const a = Math.max(utt.start, from);
      const b = Math.min(utt.end ?? this.positionMs, to);
      if (b > a) out.push({ utt, from: a, to: b });
    }
    return out;
  }
}

/**
 * Words laid end to end over the intervals in proportion to their length (in characters): the
 * time each one gets, the intervals' gaps skipped.
 */
function spread(words: readonly string[], intervals: readonly { from: number; to: number }[]): { text: string; start: number; end: number }[] {
  const lengths = words.map((w) => [...w].length);
  const totalChars = lengths.reduce((a, b) => a + b, 0) || 1;
  const totalMs = intervals.reduce((a, v) => a + Math.max(0, v.to - v.from), 0);
  const at = (ms: number): number => {
    let acc = 0;
    for (const v of intervals) {
      const len = Math.max(0, v.to - v.from);
      if (ms <= acc + len) return v.from + (ms - acc);
      acc += len;
    }
    const last = intervals[intervals.length - 1]!;
    return last.to;
  };
  const out: { text: string; start: number; end: number }[] = [];
  let chars = 0;
  words.forEach((text, i) => {
    const a = (chars / totalChars) * totalMs;
    chars += lengths[i]!;
    const b = (chars / totalChars) * totalMs;
    out.push({ text, start: at(a), end: at(b) });
  });
  return out;
}
