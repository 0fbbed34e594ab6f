/**
 * Turns the server's chunk replies into utterances (partials and finals).
 *
 * The server says nothing about utterances: no ids, no timestamps, no finals.
 * The session's own `Endpointer` runs on the audio it sends and decides them;
 * this module maps the text of each reply onto them:
 *
 * 1. Reply k is the transcription of chunk k, whose audio time is known
 *    ({@link ChunkWindows}, mapped through {@link PaddedTimeline}).
 * 2. Stock hallucinations are removed ({@link HallucinationFilter}); text of
 *    a chunk in which the endpointer found no speech is dropped.
 * 3. The words that repeat the end of the previous replies (the overlap) are
 *    removed ({@link overlapLength}), unless the overlap audio was silence.
 * 4. The remaining words go to the utterances the chunk overlaps; when it
 *    overlaps several, each word goes where it falls when the chunk's words
 *    are spread over the chunk's speech in proportion to their length.
 * 5. An utterance becomes final once the endpointer has closed it and every
 *    chunk that starts before its end has been answered: no later reply can
 *    hold its words. Utterances without any word produce no event.
 * @module
 * @internal
 */
import type { EndpointerEvent } from '../../audio/endpointer.js';
import type { Logger } from '../../logger.js';
import type { ProviderResult } from '../provider.js';
import type { HallucinationFilter } from './hallucinations.js';
import { overlapLength } from './overlap.js';
import type { ChunkWindows, PaddedTimeline } from './timeline.js';

/** Counters the assembler updates (the provider's `stats`). */
export interface AssemblerStats {
  replies: number;
  hallucinationsDropped: number;
  overlapWordsRemoved: number;
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

interface Utterance {
  segment: number;
  /** Stream ms. */
  start: number;
  /** Stream ms; undefined while the endpointer has it open. */
  end?: number;
  words: string[];
  raw?: unknown;
}

/**
 * Utterances waiting for replies, at most. Beyond it the server lags far behind the audio (or has
 * stalled): the oldest is emitted with the words it has, so memory stays bounded.
 */
const MAX_PENDING = 64;

interface RecentWord {
  text: string;
  /** Index of the reply it came from. */
  reply: number;
}

interface Voiced {
  utt: Utterance;
  from: number;
  to: number;
}

/** @internal */
export class UtteranceAssembler {
  /** Utterances not yet final, oldest first. */
  private readonly pending: Utterance[] = [];
  private nextSegment = 0;
  private replies = 0;
  /** Words accepted from recent replies (the overlap candidates), bounded. */
  private recent: RecentWord[] = [];
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
      if (ev.type === 'speechstart') {
        this.pending.push({ segment: this.nextSegment++, start: ev.startMs, words: [] });
        if (this.pending.length > MAX_PENDING) this.evictOldest();
      } else {
        const open = this.pending.findLast((u) => u.end === undefined);
        if (open) open.end = Math.max(open.start, ev.endMs);
      }
    }
    if (events.length > 0) this.settle();
  }

  /** One `{"text"}` reply: the transcription of the next chunk. */
  onReply(text: string, raw: unknown): void {
    const { windows, timeline, filter, stats, logger, provider } = this.init;
    const k = this.replies++;
    stats.replies++;
    const from = timeline.toStream(windows.start(k));
    const to = timeline.toStream(windows.end(k));
    const { words, removed } = filter.apply(text);
    if (removed.length > 0) {
      stats.hallucinationsDropped += removed.length;
      logger.debug('faster-whisper: dropped stock hallucinations', { provider, chunk: k, removed });
    }
    const voiced = this.voicedIn(from, to);
    if (words.length > 0 && voiced.length === 0) {
      stats.textWithoutSpeechDropped++;
      logger.debug('faster-whisper: dropped text of a chunk without speech', { provider, chunk: k, words: words.length });
    }
    const changed = new Set<Utterance>();
    if (words.length > 0 && voiced.length > 0) {
      const skip = this.repeatedWords(k, words, from);
      stats.overlapWordsRemoved += skip;
      const owners = placeWords(words, voiced);
      for (let i = skip; i < words.length; i++) {
        const utt = owners[i]!;
        utt.words.push(words[i]!);
        if (this.init.includeRaw) utt.raw = raw;
        changed.add(utt);
        this.recent.push({ text: words[i]!, reply: k });
      }
      const keep = this.init.maxOverlapWords * 2;
      if (this.recent.length > keep) this.recent = this.recent.slice(-keep);
    }
    this.settle();
    if (!this.init.interimResults) return;
    for (const utt of changed) {
      if (!this.pending.includes(utt)) continue; // became final above
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

  /** Emit every pending utterance that has words as final (end of session, or its time budget ran out). */
  finishAll(): void {
    while (this.pending.length > 0) {
      const u = this.pending.shift()!;
      if (u.words.length > 0) this.emit('final', u, u.end ?? Math.max(u.start, this.positionMs), u.raw);
    }
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
      text: u.words.join(' '),
      startMs: Math.round(u.start),
      endMs: Math.round(endMs),
    };
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

  /** Leading words of reply `k` that repeat words already taken from the chunks it overlaps. */
  private repeatedWords(k: number, words: readonly string[], from: number): number {
    if (k === 0) return 0;
    const { windows, timeline } = this.init;
    const chunkStart = windows.start(k);
    const candidates = this.recent.filter((w) => windows.end(w.reply) > chunkStart).map((w) => w.text);
    if (candidates.length === 0) return 0;
    // No speech in the shared audio: the same words cannot have been heard twice.
    const overlapEnd = timeline.toStream(windows.end(k - 1));
    if (this.voicedIn(from, overlapEnd).length === 0) return 0;
    return overlapLength(candidates, words, this.init.maxOverlapWords);
  }
}

/**
 * Owner of each word: words are laid end to end over the voiced intervals in proportion to their
 * length (in characters), each word belonging to the interval holding its middle.
 */
function placeWords(words: readonly string[], voiced: readonly Voiced[]): Utterance[] {
  const lengths = words.map((w) => [...w].length);
  const totalChars = lengths.reduce((a, b) => a + b, 0) || 1;
  const totalMs = voiced.reduce((a, v) => a + (v.to - v.from), 0);
  const owners: Utterance[] = [];
  let chars = 0;
  for (const len of lengths) {
    const at = ((chars + len / 2) / totalChars) * totalMs;
    chars += len;
    let acc = 0;
    let owner = voiced[voiced.length - 1]!.utt;
    for (const v of voiced) {
      acc += v.to - v.from;
      if (at <= acc) {
        owner = v.utt;
        break;
      }
    }
    owners.push(owner);
  }
  return owners;
}
