import { describe, expect, it } from 'vitest';
import { DEFAULT_WHISPER_HALLUCINATIONS } from '../src/index.js';
import { HallucinationFilter } from '../src/providers/faster-whisper/hallucinations.js';
import { overlapLength } from '../src/providers/faster-whisper/overlap.js';
import { ChunkWindows, PaddedTimeline } from '../src/providers/faster-whisper/timeline.js';

const w = (s: string): string[] => s.split(' ');

describe('overlap removal (words a chunk repeats from the previous one)', () => {
  it('finds the longest suffix/prefix run', () => {
    expect(overlapLength(w('안녕 오늘'), w('오늘 일지 쓰려'), 10)).toBe(1);
    expect(overlapLength(w('a b c d'), w('b c d e'), 10)).toBe(3);
    expect(overlapLength(w('a b c'), w('d e f'), 10)).toBe(0);
    expect(overlapLength([], w('a b'), 10)).toBe(0);
  });

  it('ignores case and punctuation', () => {
    expect(overlapLength(w('so, Thank you.'), w('thank you, bye'), 10)).toBe(2);
    expect(overlapLength(w('네, 알겠습니다.'), w('알겠습니다 그럼'), 10)).toBe(1);
  });

  it('tolerates a one-letter slip on longer words (Hangul compared letter by letter)', () => {
    expect(overlapLength(w('오늘 일지 쓰려'), w('일지 쓰러 했어'), 10)).toBe(2);
    expect(overlapLength(w('recognition works'), w('recognitions works fine'), 10)).toBe(2);
    expect(overlapLength(w('it works'), w('it worked fine'), 10)).toBe(0); // two letters apart
    expect(overlapLength(w('speech recognition'), w('recognitin is hard'), 10)).toBe(1);
    // short words must match exactly: 오늘 and 오른 are different words
    expect(overlapLength(w('어제 오늘'), w('오른 쪽'), 10)).toBe(0);
  });

  it('accepts a word cut at the chunk edge as the first repeated word', () => {
    expect(overlapLength(w('오늘 일지 쓰려'), w('지 쓰려 했어'), 10)).toBe(2);
    expect(overlapLength(w('오늘 일지'), w('지 쓰려'), 10)).toBe(1);
  });

  it('looks at most maxWords back', () => {
    expect(overlapLength(w('a b c d'), w('a b c d e'), 3)).toBe(0);
    expect(overlapLength(w('a b c d'), w('a b c d e'), 4)).toBe(4);
  });
});

describe('stock hallucination filter', () => {
  const filter = new HallucinationFilter(DEFAULT_WHISPER_HALLUCINATIONS);

  it('removes the Korean and English stock phrases in any spacing, case or punctuation', () => {
    for (const text of [
      '시청해 주셔서 감사합니다.',
      '시청해주셔서 감사합니다!',
      '구독과 좋아요 부탁드립니다',
      'MBC 뉴스 이덕영입니다.',
      '자막 제공: 배달의 민족',
      '한글자막 by 한효정',
      'Thanks for watching!',
      'THANK YOU FOR WATCHING.',
      'Subtitles by the Amara.org community',
      '...',
    ]) {
      expect(filter.apply(text).words, text).toEqual([]);
    }
  });

  it('keeps what a caller really says, and the rest of a line around a phrase', () => {
    expect(filter.apply('감사합니다').words).toEqual(['감사합니다']);
    expect(filter.apply('Thank you.').words).toEqual(['Thank', 'you.']);
    expect(filter.apply('MBC 뉴스 봤어?').words).toEqual(['MBC', '뉴스', '봤어?']);
    const r = filter.apply('모르겠어 시청해 주셔서 감사합니다.');
    expect(r.words).toEqual(['모르겠어']);
    expect(r.removed).toEqual(['시청해 주셔서 감사합니다.']);
  });

  it('takes a custom list (strings and regular expressions, with or without the g flag)', () => {
    const custom = new HallucinationFilter([...DEFAULT_WHISPER_HALLUCINATIONS, 'you', /제\s*채널/u]);
    expect(custom.apply('you').words).toEqual([]);
    expect(custom.apply('제 채널 제채널 안녕').words).toEqual(['안녕']);
    expect(new HallucinationFilter([]).apply('Thanks for watching!').words).toEqual(['Thanks', 'for', 'watching!']);
  });
});

describe('chunk timeline', () => {
  const win = new ChunkWindows(2000, 500);

  it('knows which chunks exist for an amount of audio', () => {
    expect(win.countFor(1999)).toBe(0);
    expect(win.countFor(2000)).toBe(1);
    expect(win.countFor(3499)).toBe(1);
    expect(win.countFor(3500)).toBe(2);
    expect([win.start(2), win.end(2)]).toEqual([3000, 5000]);
  });

  it('knows how much audio completes every chunk starting before a time', () => {
    expect(win.startingBefore(0)).toBe(0);
    expect(win.startingBefore(1500)).toBe(1);
    expect(win.startingBefore(1501)).toBe(2);
    expect(win.coverEnd(10_139)).toBe(11_000); // the sample call: pad 861 ms
    expect(win.coverEnd(2000)).toBe(3500);
    expect(new ChunkWindows(1000, 0).coverEnd(2500)).toBe(3000);
  });

  it('maps server time across inserted silence and back', () => {
    const t = new PaddedTimeline();
    t.addPad(3000, 3000, 600); // stream 3000 ms: 600 ms of silence sent
    t.addPad(5000, 5600, 400);
    expect(t.toStream(2000)).toBe(2000);
    expect(t.toStream(3300)).toBe(3000); // inside the pad
    expect(t.toStream(3600)).toBe(3000);
    expect(t.toStream(5000)).toBe(4400);
    expect(t.toStream(7000)).toBe(6000);
    expect(t.toServer(2999)).toBe(2999);
    expect(t.toServer(3000)).toBe(3000); // audio up to the pad comes before it
    expect(t.toServer(4400)).toBe(5000);
    expect(t.toServer(6000)).toBe(7000);
    expect(t.paddingMs).toBe(1000);
    t.prune(4000);
    expect(t.toStream(7000)).toBe(6000);
    expect(t.toServer(6000)).toBe(7000);
  });
});
