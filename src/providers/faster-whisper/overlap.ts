/**
 * Removal of the words a chunk/overlap server repeats: consecutive chunks
 * share `overlap_duration` of audio, so a reply usually starts with the last
 * words of the previous reply, often with different punctuation or casing, and
 * sometimes with the first word cut at the chunk edge ("지" for "일지").
 *
 * The rule (whisper_streaming's n-gram removal, made tolerant): the longest
 * `k <= maxWords` for which the last `k` words of the previous reply match the
 * first `k` words of the new one, word by word ({@link sameWord}); the first
 * word of the new reply may also be the tail of the old word.
 * @module
 * @internal
 */
import { sameWord, wordKey } from './words.js';

/** How many leading words of `next` repeat the trailing words of `prev` (0 when none). */
export function overlapLength(prev: readonly string[], next: readonly string[], maxWords: number): number {
  const p = prev.map(wordKey);
  const n = next.map(wordKey);
  for (let k = Math.min(maxWords, p.length, n.length); k >= 1; k--) {
    let ok = true;
    for (let i = 0; i < k && ok; i++) {
      const a = p[p.length - k + i]!;
      const b = n[i]!;
      ok = sameWord(a, b) || (i === 0 && b.length > 0 && a.length > b.length && a.endsWith(b));
    }
    if (ok) return k;
  }
  return 0;
}
