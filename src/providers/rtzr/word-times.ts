/**
 * RTZR word times, either convention. A final's `words[].start_at` is
 * relative to the utterance's start according to RTZR's Korean WebSocket docs
 * ("문장의 시작 기준") and TEN's live-tested client (which adds it to the
 * utterance offset), but relative to the beginning of the audio according to
 * the comments of RTZR's own gRPC proto. Both conventions are accepted, and
 * told apart per final: the words of a final lie inside its utterance
 * (`[start_at, start_at + duration]` of the connection's audio), so the
 * reading that puts them there is the right one.
 *
 * When both readings fit (an utterance starting within its own length of the
 * connection's start, e.g. the first one at 0.3 s), the convention last seen
 * unambiguously on the connection decides, else utterance-relative (the
 * documented one); the two readings then differ by at most `start_at`.
 * Sources: https://developers.rtzr.ai/docs/ko/stt-streaming/websocket (Response: words),
 * https://github.com/vito-ai/openapi-grpc (`protos/vito-stt-client.proto`, `WordInfo.start_at`),
 * TEN framework rtzr_asr_python (PR #2320).
 * @module
 * @internal
 */

/** How a final's word `start_at` counts. */
export type WordTimeConvention = 'utterance' | 'connection';

/** A word as RTZR sends it. */
export interface RawRtzrWord {
  text: string;
  start_at: number;
  duration: number;
}

/** A word may stick out of its utterance by this much and still count as inside, ms (rounding, EPD padding). */
export const WORD_SLACK_MS = 100;

/** How far words (as `[start, end]`) lie outside `[from, to]`, ms in total. */
function outside(words: readonly { start: number; end: number }[], from: number, to: number): number {
  let d = 0;
  for (const w of words) d += Math.max(0, from - w.start - WORD_SLACK_MS) + Math.max(0, w.end - to - WORD_SLACK_MS);
  return d;
}

/** Remembers the convention a connection was last seen using unambiguously. @internal */
export class WordTimeReader {
  /** The convention last decided unambiguously on this connection. */
  convention: WordTimeConvention | undefined;
  /** Finals whose words were read utterance-relative / connection-relative (for logs and tests). */
  readonly seen: Record<WordTimeConvention, number> = { utterance: 0, connection: 0 };

  /**
   * Word times of a final relative to the connection's first audio byte, ms.
   * @param startAt - the final's `start_at` (connection-relative, ms).
   * @param duration - the final's `duration`, ms.
   */
  read(words: readonly RawRtzrWord[], startAt: number, duration: number): { start: number; end: number }[] {
    const asConnection = words.map((w) => ({ start: w.start_at, end: w.start_at + w.duration }));
    const asUtterance = asConnection.map((w) => ({ start: w.start + startAt, end: w.end + startAt }));
    if (words.length === 0 || startAt === 0) return asUtterance; // both readings agree
    const end = startAt + Math.max(0, duration);
    const offUtterance = outside(asUtterance, startAt, end);
    const offConnection = outside(asConnection, startAt, end);
    let pick: WordTimeConvention;
    if (offUtterance === 0 && offConnection > 0) pick = this.convention = 'utterance';
    else if (offConnection === 0 && offUtterance > 0) pick = this.convention = 'connection';
    else if (offUtterance === 0) pick = this.convention ?? 'utterance'; // both fit
    else pick = offConnection < offUtterance ? 'connection' : 'utterance'; // neither fits: the closer one
    this.seen[pick]++;
    return pick === 'utterance' ? asUtterance : asConnection;
  }
}
