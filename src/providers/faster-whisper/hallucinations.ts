/**
 * Whisper's stock hallucinations: phrases it produces on silence, music or
 * noise because they close so many subtitled videos in its training data
 * ("시청해 주셔서 감사합니다", "Thanks for watching!", "MBC 뉴스 이덕영입니다",
 * "자막 제공: …"). They are removed wherever they appear in a reply.
 *
 * Deliberately absent from the defaults: phrases a caller really says
 * ("감사합니다", "Thank you."). Text in a chunk where the endpointer found no
 * speech at all is dropped separately (see the session), which covers those.
 * @module
 */
import { splitWords, wordKey } from './words.js';

/**
 * Default phrases (Korean and English) removed from Faster-Whisper replies. Strings match whole
 * words ignoring case, punctuation and spacing ("시청해주셔서 감사합니다." matches
 * "시청해 주셔서 감사합니다"); regular expressions match the raw text.
 */
export const DEFAULT_WHISPER_HALLUCINATIONS: readonly (string | RegExp)[] = Object.freeze([
  '시청해 주셔서 감사합니다',
  '시청해 주셔서 고맙습니다',
  '시청해 주신 여러분 감사합니다',
  '구독과 좋아요 부탁드립니다',
  '구독과 좋아요 부탁드려요',
  '좋아요와 구독 부탁드립니다',
  '구독 좋아요 알림 설정',
  '구독과 좋아요',
  '다음 영상에서 만나요',
  '오늘도 시청해 주셔서 감사합니다',
  /MBC\s*뉴스\s*[가-힣]{2,4}입니다\.?/gu,
  /(?:한글\s*)?자막\s*(?:제공|by)[^.!?\n]*[.!?]?/giu,
  'Thank you for watching',
  'Thanks for watching',
  'Thank you so much for watching',
  'Please subscribe to my channel',
  'Please subscribe',
  'Like and subscribe',
  'See you in the next video',
  /Subtitles by the Amara\.org community/giu,
]);

/** Result of {@link HallucinationFilter.apply}. */
export interface FilteredText {
  /** The words left, in order. */
  words: string[];
  /** The phrases removed, as they appeared. */
  removed: string[];
}

/** Compiled phrase list. @internal */
export class HallucinationFilter {
  private readonly patterns: RegExp[];
  /** Phrase keys without spaces, longest first (so the longest phrase wins). */
  private readonly phrases: string[];

  constructor(list: readonly (string | RegExp)[]) {
    this.patterns = list
      .filter((p): p is RegExp => p instanceof RegExp)
      .map((p) => (p.global ? p : new RegExp(p.source, `${p.flags}g`)));
    this.phrases = list
      .filter((p): p is string => typeof p === 'string')
      .map((p) => splitWords(p).map(wordKey).join(''))
      .filter((p) => p.length > 0)
      .sort((a, b) => b.length - a.length);
  }

  /**
   * Remove the listed phrases from `text` and words that are punctuation only ("...", "♪").
   */
  apply(text: string): FilteredText {
    const removed: string[] = [];
    let t = text;
    for (const re of this.patterns) {
      re.lastIndex = 0;
      t = t.replace(re, (m) => {
        if (m.trim() !== '') removed.push(m.trim());
        return ' ';
      });
    }
    const words = splitWords(t);
    const keys = words.map(wordKey);
    const drop = keys.map((k) => k === '');
    for (const phrase of this.phrases) {
      for (let i = 0; i < words.length; i++) {
        if (drop[i]) continue;
        let acc = '';
        for (let j = i; j < words.length && !drop[j]; j++) {
          acc += keys[j]!;
          if (acc === phrase) {
            removed.push(words.slice(i, j + 1).join(' '));
            for (let x = i; x <= j; x++) drop[x] = true;
            break;
          }
          if (!phrase.startsWith(acc)) break;
        }
      }
    }
    return { words: words.filter((_, i) => !drop[i]), removed };
  }
}
