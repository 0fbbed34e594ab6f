/**
 * The emulator's "recognizer": turns scripted ground-truth texts into RTZR
 * result messages (growing partials, finals with word timings).
 * @module
 * @internal
 */

/** Text given to utterances beyond the script. */
export const UNSCRIPTED_TEXT = '(unscripted)';
/** Assumed speaking rate: ms per character (a Hangul character is one syllable). */
export const MS_PER_CHAR = 250;

/** A word of a final result; times in ms relative to the utterance start. */
export interface RtzrWord {
  text: string;
  start_at: number;
  duration: number;
  confidence: number;
}

/** One alternative of a result. */
export interface RtzrAlternative {
  text: string;
  confidence: number;
  words?: RtzrWord[];
}

/** A result message as RTZR sends it. */
export interface RtzrResultMessage {
  seq: number;
  /** Utterance start, ms since the connection's first audio byte. */
  start_at: number;
  /** Utterance length in ms; 0 on partials. */
  duration: number;
  final: boolean;
  alternatives: RtzrAlternative[];
}

/** The text of utterance `index` of a script. */
export function scriptedText(script: readonly string[], index: number): string {
  return script[index] ?? UNSCRIPTED_TEXT;
}

/** A deterministic confidence in [0.90, 0.99] for an utterance. */
export function confidenceFor(seq: number): number {
  return (90 + ((seq * 7 + 5) % 10)) / 100;
}

/** Splits a text into the units partials grow by: words, or characters for a one-word text. */
function units(text: string): { parts: string[]; joiner: string } {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  if (words.length > 1) return { parts: words, joiner: ' ' };
  return { parts: [...text.trim()], joiner: '' };
}

/**
 * How many units of `text` a partial shows after `elapsedMs` of speech: grows
 * with time at {@link MS_PER_CHAR}, never the whole text, never fewer than
 * `previous` (partials never shrink).
 */
export function partialUnits(text: string, elapsedMs: number, previous: number): number {
  const { parts } = units(text);
  if (parts.length <= 1) return 0;
  const budget = elapsedMs / MS_PER_CHAR;
  let chars = 0;
  let n = 0;
  for (const part of parts) {
    chars += [...part].length;
    if (chars > budget) break;
    n++;
  }
  return Math.max(previous, Math.min(n, parts.length - 1));
}

/** The first `count` units of `text`. */
export function prefixText(text: string, count: number): string {
  const { parts, joiner } = units(text);
  return parts.slice(0, count).join(joiner);
}

/** Words of `text` (split on spaces) spread over `durationMs` in proportion to their length. */
export function buildWords(text: string, durationMs: number, confidence: number): RtzrWord[] {
  const words = text.split(/\s+/).filter((w) => w.length > 0);
  const total = words.reduce((sum, w) => sum + [...w].length, 0);
  const result: RtzrWord[] = [];
  let chars = 0;
  for (const word of words) {
    const start = Math.round((durationMs * chars) / total);
    chars += [...word].length;
    const end = Math.round((durationMs * chars) / total);
    result.push({ text: word, start_at: start, duration: Math.max(1, end - start), confidence });
  }
  return result;
}
