/**
 * The stream's utterances across connections: provider results mapped to {@link Transcript}s on
 * the stream's audio timeline, one continuous `utteranceId` sequence whatever connection or
 * provider produced them, a final delivered at most once (a result ending before the last final
 * is old news), the utterance a failed connection left open continued by the next one, and the
 * per-utterance metrics.
 * @module
 */
import type { ProviderResult } from '../providers/provider.js';
import type { Link, Utterance } from './link.js';
import type { Transcript, UtteranceMetrics } from './types.js';
import type { WriteClock } from './write-clock.js';

/** A provider result the stream delivers. @internal */
export interface MappedResult {
  transcript: Transcript;
  utterance: Utterance;
  /** The result starts a new utterance (`speechstart` comes first). */
  started: boolean;
}

/** How many utterance keys a link remembers before finalized ones are forgotten. */
const MAX_SEGMENTS = 64;

/** @internal */
export class UtteranceLedger {
  /** Finals delivered, in order. */
  readonly finals: Transcript[] = [];
  /** Stream ms up to which finals have been delivered. */
  committedMs = 0;
  /** After a failure (or a forced handover): the next link's first utterance continues this one. */
  adopt: Utterance | undefined;
  private nextId = 0;
  /** The newest utterance that has no final yet. */
  private open: Utterance | undefined;

  constructor(
    private readonly o: {
      /** Input bytes per ms: a link's offset is an input byte position. */
      bytesPerMs: number;
      includeRaw: boolean;
      /** When each ms of audio was written (latencies). */
      clock: WriteClock;
    },
  ) {}

  /** An utterance has no final yet. */
  get speaking(): boolean {
    return this.open !== undefined && !this.open.finalized;
  }

  /** Whether `r` is a final with new words (the supervisor's proof of progress). */
  isFreshFinal(link: Link, r: ProviderResult): boolean {
    const endMs = Math.round(r.endMs + link.offset / this.o.bytesPerMs);
    return r.type === 'final' && !link.segments.get(r.segment)?.finalized && r.text !== '' && endMs > this.committedMs;
  }

  /** The serving link was lost: the utterance it left open continues on the next one. */
  linkLost(): void {
    if (this.speaking) this.adopt = this.open;
  }

  /** A forced handover away from `from`: its utterance in progress continues on the next link. */
  adoptOpenOf(from: Link): void {
    for (const u of from.segments.values()) if (!u.finalized) this.adopt ??= u;
  }

  /**
   * `r` from `link`, on the stream's timeline; undefined when there is nothing to deliver (a result
   * after its segment's final, an empty result, audio that is already final). A final is recorded
   * (`finals`, `committedMs`) before it is returned.
   * @param now - `performance.now()` of its arrival.
   */
  map(link: Link, r: ProviderResult, now: number): MappedResult | undefined {
    const offsetMs = link.offset / this.o.bytesPerMs;
    const startMs = Math.round(r.startMs + offsetMs);
    const endMs = Math.round(r.endMs + offsetMs);
    let utt = link.segments.get(r.segment);
    if (utt?.finalized) return undefined;
    let started = false;
    if (!utt) {
      if (r.text === '' || endMs <= this.committedMs) return undefined; // nothing new
      if (this.adopt) {
        utt = this.adopt; // the utterance the failed connection left open continues here
        this.adopt = undefined;
      } else {
        utt = { id: this.nextId++, startMs, finalized: false };
        started = true;
      }
      link.segments.set(r.segment, utt);
      this.open = utt;
      if (link.segments.size > MAX_SEGMENTS) pruneFinalized(link.segments);
    }
    const t: Transcript = { type: r.type, text: r.text, utteranceId: utt.id, startMs, endMs, provider: link.provider.id };
    if (r.confidence !== undefined) t.confidence = r.confidence;
    if (r.words) t.words = r.words.map((w) => ({ ...w, startMs: Math.round(w.startMs + offsetMs), endMs: Math.round(w.endMs + offsetMs) }));
    t.language = r.language ?? link.settings.language;
    if (this.o.includeRaw && r.raw !== undefined) t.raw = r.raw;
    if (r.type === 'partial') {
      utt.firstPartialAt ??= now;
      return { transcript: t, utterance: utt, started };
    }
    utt.finalized = true;
    if (this.open === utt) this.open = undefined;
    t.latencyMs = Math.max(0, Math.round(now - (this.o.clock.writtenAt(endMs) ?? now)));
    this.committedMs = Math.max(this.committedMs, endMs);
    this.finals.push(t);
    return { transcript: t, utterance: utt, started };
  }

  /** The `metrics` of a final: the connection's costs on its first final, latencies. */
  metrics(link: Link, utt: Utterance, t: Transcript): UtteranceMetrics {
    const costs = link.costs ?? { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false };
    const first = link.finals++ === 0;
    const m: UtteranceMetrics = {
      utteranceId: utt.id,
      provider: link.provider.id,
      audioMs: Math.max(0, t.endMs - t.startMs),
      tokenMs: first ? costs.tokenMs : 0,
      tokenCached: first ? costs.tokenCached : true,
      connectMs: first ? costs.connectMs : 0,
      connectionReused: !first,
      prewarmed: costs.prewarmed,
      finalLatencyMs: t.latencyMs ?? 0,
    };
    if (utt.firstPartialAt !== undefined) {
      const startWritten = this.o.clock.writtenAt(utt.startMs);
      if (startWritten !== undefined) m.firstPartialMs = Math.max(0, Math.round(utt.firstPartialAt - startWritten));
    }
    return m;
  }
}

function pruneFinalized(segments: Map<number, Utterance>): void {
  for (const [k, u] of segments) {
    if (segments.size <= MAX_SEGMENTS) break;
    if (u.finalized) segments.delete(k);
  }
}
