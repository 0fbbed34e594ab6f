/**
 * Words of Whisper text as the overlap remover and the hallucination filter
 * compare them: split on whitespace; compared by a key that ignores case,
 * punctuation, symbols and Unicode compatibility forms.
 * @module
 * @internal
 */

const PUNCTUATION = /[\p{P}\p{S}]/gu;

/** Split text into words (whitespace-separated, empty ones dropped). */
export function splitWords(text: string): string[] {
  return text.split(/\s+/u).filter((w) => w.length > 0);
}

/** Comparison key of a word: NFKC, lower case, without punctuation and symbols ('' for "..."). */
export function wordKey(word: string): string {
  return word.normalize('NFKC').toLowerCase().replace(PUNCTUATION, '');
}

/** Levenshtein distance of two strings, giving up (returning `limit + 1`) beyond `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      if (v < best) best = v;
    }
    if (best > limit) return limit + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Whether two word keys are the same word heard twice: equal, or one edit apart when both are
 * long enough (4+ letters). Hangul is compared letter by letter (NFD jamo), so 쓰려/쓰러 (one
 * letter apart) match and 오늘/오른 (two apart) do not.
 */
export function sameWord(a: string, b: string): boolean {
  if (a === b) return a.length > 0;
  const da = a.normalize('NFD');
  const db = b.normalize('NFD');
  if (Math.min(da.length, db.length) < 4) return false;
  return editDistance(da, db, 1) <= 1;
}
