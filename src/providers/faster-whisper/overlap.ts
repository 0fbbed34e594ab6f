/**
 * Removal of the words a chunk/overlap server repeats, by text (for replies
 * without times): consecutive chunks share `overlap_duration` of audio, so a
 * reply usually starts with the last words of the previous reply, often with
 * different punctuation or casing, and with the words cut by the chunk edges
 * mangled: the previous chunk ends in half a word that Whisper turns into
 * something else ("…they should we or no" for "we are"), the next one may
 * start with the tail of a word ("지" for "일지").
 *
 * The rule (whisper_streaming's n-gram removal, made tolerant): find the
 * longest run of `k <= maxWords` words that the end of the previous reply and
 * the start of the new one share, word by word ({@link sameWord}), where the
 * previous reply may end with up to {@link MAX_MANGLED_TAIL} words after the
 * run (its mangled edge) and the new one may start with one word before it
 * (half a word); the first word of the run may also be the tail of the old
 * word. The new reply's words up to the end of the run are dropped, and the
 * previous reply's mangled tail is taken back: the new chunk heard that audio
 * whole. Both are bounded by the caller (`maxRemove`, `maxRetract`): only
 * words placed in the shared audio may go.
 * @module
 * @internal
 */
import { sameWord, wordKey } from './words.js';

/** Trailing words of the previous reply that may be a mangled edge. */
export const MAX_MANGLED_TAIL = 2;
/** Leading words of the new reply that may be half a word. */
export const MAX_MANGLED_HEAD = 1;

/** What to do with an overlap. */
export interface OverlapMatch {
  /** Leading words of the new reply to drop (they repeat the previous reply). */
  remove: number;
  /** Trailing words of the previous reply to take back (its mangled edge, heard whole in the new reply). */
  retract: number;
}

/** Bounds of {@link matchOverlap}. */
export interface OverlapBounds {
  /** Longest run looked for. */
  maxWords: number;
  /** Leading words of `next` that lie in the shared audio (at most this many are dropped). */
  maxRemove: number;
  /** Trailing words of `prev` that lie in the shared audio (at most this many are taken back). */
  maxRetract: number;
}

const NONE: OverlapMatch = { remove: 0, retract: 0 };

/** How the end of `prev` and the start of `next` overlap (nothing when they do not). */
export function matchOverlap(prev: readonly string[], next: readonly string[], bounds: OverlapBounds): OverlapMatch {
  const p = prev.map(wordKey);
  const n = next.map(wordKey);
  let best: { k: number; tail: number; head: number } | undefined;
  for (let tail = 0; tail <= Math.min(MAX_MANGLED_TAIL, bounds.maxRetract, p.length - 1); tail++) {
    for (let head = 0; head <= Math.min(MAX_MANGLED_HEAD, n.length - 1); head++) {
      const top = Math.min(bounds.maxWords, p.length - tail, n.length - head, bounds.maxRemove - head);
      for (let k = top; k >= 1; k--) {
        if (best && (k < best.k || (k === best.k && tail + head >= best.tail + best.head))) break;
        if (runMatches(p, n, p.length - tail - k, head, k)) {
          best = { k, tail, head };
          break;
        }
      }
    }
  }
  return best ? { remove: best.head + best.k, retract: best.tail } : NONE;
}

/** Whether `p[pi..pi+k)` and `n[ni..ni+k)` are the same words (the first of `n` may be the tail of its twin). */
function runMatches(p: readonly string[], n: readonly string[], pi: number, ni: number, k: number): boolean {
  for (let i = 0; i < k; i++) {
    const a = p[pi + i]!;
    const b = n[ni + i]!;
    const cut = i === 0 && ni === 0 && b.length > 0 && a.length > b.length && a.endsWith(b);
    if (!sameWord(a, b) && !cut) return false;
  }
  return true;
}
