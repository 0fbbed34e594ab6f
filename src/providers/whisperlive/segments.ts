/**
 * Turns WhisperLive transcript updates into partials and finals.
 *
 * Every update re-sends the last `send_last_n_segments` committed segments
 * plus the in-progress one, so a committed segment is new only when it was
 * not seen before (same start, end and text) and starts at or after the end
 * of the last committed one (the two rules of WhisperLive's own clients).
 * A new committed segment (`completed: true`) is a final; the trailing
 * `completed: false` segment is the partial of the next utterance, sent only
 * when its text changed. Servers older than v0.6.0 send no `completed`: all
 * segments but the last are then committed.
 * @module
 * @internal
 */
import type { ProviderResult } from '../provider.js';
import type { RawSegment } from './messages.js';

/** Start times may jitter by a few ms between updates. */
const TOLERANCE_MS = 10;
/** Keys of committed segments remembered (well above `send_last_n_segments`' default 10). */
const SEEN_LIMIT = 256;

interface InProgress {
  segment: number;
  text: string;
  start: number;
  end: number;
}

/** @internal */
export class SegmentTracker {
  private lastEnd = Number.NEGATIVE_INFINITY;
  private readonly seen = new Set<string>();
  private nextSegment = 0;
  private partial: InProgress | undefined;
  /** Committed segments skipped because they had been delivered already. */
  resent = 0;
  /** Count of transcript changes (a new committed segment, or new in-progress text). */
  changes = 0;

  constructor(
    private readonly interimResults: boolean,
    private readonly includeRaw: boolean,
  ) {}

  /** End of the last committed segment, ms since the session's first audio (`-Infinity` before the first). */
  get committedEndMs(): number {
    return this.lastEnd;
  }

  /** The in-progress segment (`completed: false`) not yet committed, if any. */
  get pending(): { text: string; startMs: number; endMs: number } | undefined {
    const p = this.partial;
    return p ? { text: p.text, startMs: p.start, endMs: p.end } : undefined;
  }

  /** The results one update yields, in order. */
  update(segments: readonly RawSegment[], raw: unknown, language?: string): ProviderResult[] {
    const out: ProviderResult[] = [];
    const n = segments.length;
    for (let i = 0; i < n; i++) {
      const s = segments[i]!;
      const completed = s.completed ?? i < n - 1;
      if (!completed) {
        if (i === n - 1) this.onPartial(s, raw, language, out);
        continue;
      }
      const key = `${Math.round(s.start)}|${Math.round(s.end)}|${s.text}`;
      if (this.seen.has(key) || s.start < this.lastEnd - TOLERANCE_MS) {
        this.resent++;
        continue;
      }
      this.remember(key);
      this.changes++;
      this.lastEnd = Math.max(this.lastEnd, s.end);
      const segment = this.partial?.segment ?? this.nextSegment++;
      this.partial = undefined;
      const text = s.text.trim();
      if (text === '') continue;
      const r = this.result('final', segment, text, s.start, s.end, raw, language);
      if (s.words && s.words.length > 0) {
        r.words = s.words
          .filter((w) => w.word.trim() !== '')
          .map((w) => ({
            text: w.word.trim(),
            startMs: Math.round(w.start),
            endMs: Math.round(w.end),
            ...(w.probability !== undefined ? { confidence: w.probability } : {}),
          }));
      }
      out.push(r);
    }
    return out;
  }

  /**
   * The in-progress text as a final, if any. Only for when the server has provably transcribed all
   * the audio sent (see `end-of-audio.ts`): it does not flush on `END_OF_AUDIO`.
   */
  promotePartial(language?: string): ProviderResult | undefined {
    const p = this.partial;
    this.partial = undefined;
    if (!p) return undefined;
    return this.result('final', p.segment, p.text, p.start, p.end, undefined, language);
  }

  private onPartial(s: RawSegment, raw: unknown, language: string | undefined, out: ProviderResult[]): void {
    const text = s.text.trim();
    if (text === '' || s.start < this.lastEnd - TOLERANCE_MS) return;
    if (!this.partial) this.partial = { segment: this.nextSegment++, text: '', start: s.start, end: s.end };
    const p = this.partial;
    const changed = p.text !== text;
    if (changed) this.changes++;
    p.text = text;
    p.start = s.start;
    p.end = s.end;
    if (changed && this.interimResults) out.push(this.result('partial', p.segment, text, s.start, s.end, raw, language));
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value as string);
  }

  private result(
    type: 'partial' | 'final',
    segment: number,
    text: string,
    start: number,
    end: number,
    raw: unknown,
    language: string | undefined,
  ): ProviderResult {
    const r: ProviderResult = { type, segment, text, startMs: Math.round(start), endMs: Math.round(Math.max(start, end)) };
    if (language) r.language = language;
    if (this.includeRaw && raw !== undefined) r.raw = raw;
    return r;
  }
}
