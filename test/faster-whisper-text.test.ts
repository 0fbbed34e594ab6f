import { describe, expect, it } from 'vitest';
import { DEFAULT_WHISPER_HALLUCINATIONS } from '../src/index.js';
import { HallucinationFilter } from '../src/providers/faster-whisper/hallucinations.js';
import { matchOverlap } from '../src/providers/faster-whisper/overlap.js';
import { ChunkWindows, PaddedTimeline } from '../src/providers/faster-whisper/timeline.js';
import { UtteranceAssembler } from '../src/providers/faster-whisper/assembler.js';
import type { ProviderResult } from '../src/providers/provider.js';

const w = (s: string): string[] => s.split(' ');
const ANY = { maxWords: 10, maxRemove: 100, maxRetract: 100 };
/** Leading words of `next` dropped, for an overlap without mangled edges. */
const exact = (prev: string, next: string, maxWords = 10): number =>
  matchOverlap(w(prev), w(next), { maxWords, maxRemove: 100, maxRetract: 0 }).remove;

describe('overlap removal by text (words a chunk repeats from the previous one)', () => {
  it('finds the longest suffix/prefix run', () => {
    expect(exact('안녕 오늘', '오늘 일지 쓰려')).toBe(1);
    expect(exact('a b c d', 'b c d e')).toBe(3);
    expect(exact('a b c', 'd e f')).toBe(0);
    expect(matchOverlap([], w('a b'), ANY)).toEqual({ remove: 0, retract: 0 });
  });

  it('ignores case and punctuation', () => {
    expect(exact('so, Thank you.', 'thank you, bye')).toBe(2);
    expect(exact('네, 알겠습니다.', '알겠습니다 그럼')).toBe(1);
  });

  it('tolerates a one-letter slip on longer words (Hangul compared letter by letter)', () => {
    expect(exact('오늘 일지 쓰려', '일지 쓰러 했어')).toBe(2);
    expect(exact('recognition works', 'recognitions works fine')).toBe(2);
    expect(exact('it works', 'it worked fine')).toBe(0); // two letters apart
    expect(exact('speech recognition', 'recognitin is hard')).toBe(1);
    // short words must match exactly: 오늘 and 오른 are different words
    expect(matchOverlap(w('어제 오늘'), w('오른 쪽'), ANY)).toEqual({ remove: 0, retract: 0 });
  });

  it('accepts a word cut at the chunk edge as the first repeated word', () => {
    expect(exact('오늘 일지 쓰려', '지 쓰려 했어')).toBe(2);
    expect(exact('오늘 일지', '지 쓰려')).toBe(1);
  });

  it('looks at most maxWords back', () => {
    expect(matchOverlap(w('a b c d'), w('a b c d e'), { maxWords: 2, maxRemove: 100, maxRetract: 0 }).remove).toBe(0);
    expect(exact('a b c d', 'a b c d e', 4)).toBe(4);
  });

  it('tolerates a mangled edge: the previous reply ends in garbage for the word the chunk cut', () => {
    // chunk n ends "…they should we or no" (half of "we are"), chunk n+1 starts "we are both…"
    expect(matchOverlap(w('i think they should we or no'), w('we are both fine'), ANY)).toEqual({ remove: 1, retract: 2 });
    expect(matchOverlap(w('오늘 일지 쓰려 했어 음'), w('쓰려 했어 근데'), ANY)).toEqual({ remove: 2, retract: 1 });
    // and the new reply may start with half a word before the repeated run
    expect(matchOverlap(w('they should we'), w('ld we are'), ANY)).toEqual({ remove: 2, retract: 0 });
  });

  it('prefers the longest run, then the one with fewer mangled words', () => {
    expect(matchOverlap(w('a b c x'), w('a b c d'), ANY)).toEqual({ remove: 3, retract: 1 });
    expect(matchOverlap(w('k b c'), w('b c d'), ANY)).toEqual({ remove: 2, retract: 0 });
  });

  it('never drops or takes back more words than lie in the shared audio', () => {
    expect(matchOverlap(w('they should we or no'), w('we are both'), { maxWords: 10, maxRemove: 100, maxRetract: 1 })).toEqual({
      remove: 0,
      retract: 0,
    });
    expect(matchOverlap(w('a b c d'), w('b c d e'), { maxWords: 10, maxRemove: 2, maxRetract: 0 })).toEqual({ remove: 0, retract: 0 });
    expect(matchOverlap(w('a b c d'), w('c d e'), { maxWords: 10, maxRemove: 2, maxRetract: 0 })).toEqual({ remove: 2, retract: 0 });
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

describe('utterance assembly across chunk edges', () => {
  /** An assembler over 2 s chunks with 0.5 s overlap, one utterance of speech over `speechMs`. */
  function assembler(speechMs: [number, number]) {
    const results: ProviderResult[] = [];
    const stats = { replies: 0, hallucinationsDropped: 0, overlapWordsRemoved: 0, overlapWordsRetracted: 0, timedReplies: 0, textWithoutSpeechDropped: 0 };
    const a = new UtteranceAssembler({
      provider: 'fw',
      windows: new ChunkWindows(2000, 500),
      timeline: new PaddedTimeline(),
      filter: new HallucinationFilter([]),
      maxOverlapWords: 10,
      interimResults: false,
      includeRaw: false,
      stats,
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      emit: (r) => results.push(r),
    });
    a.positionMs = 6000;
    a.onEndpointer([{ type: 'voicestart', startMs: speechMs[0] }]);
    a.onEndpointer([{ type: 'voiceend', startMs: speechMs[0], endMs: speechMs[1], reason: 'silence' }]);
    return { a, results, stats };
  }

  it('text only: a mangled edge is taken back and the repeated word dropped ("…we or no" + "we are both…")', () => {
    const { a, results, stats } = assembler([0, 4500]);
    a.onReply('i think they should we or no', {});
    a.onReply('we are both fine here', {});
    a.onReply('here we go', {});
    a.finishAll();
    expect(results.map((r) => r.text)).toEqual(['i think they should we are both fine here we go']);
    expect(stats).toMatchObject({ overlapWordsRemoved: 2, overlapWordsRetracted: 2 });
  });

  it('text only: nothing is dropped when the shared audio was silence', () => {
    const { a, results } = assembler([0, 1400]);
    a.onEndpointer([{ type: 'voicestart', startMs: 2100 }]);
    a.onEndpointer([{ type: 'voiceend', startMs: 2100, endMs: 3000, reason: 'silence' }]);
    a.onReply('hello there', {});
    a.onReply('there you are', {}); // "there" is new speech: the shared audio (1.5-2 s) was silent
    a.finishAll();
    expect(results.map((r) => r.text)).toEqual(['hello there', 'there you are']);
  });

  it('with times: the version of a word cut by a chunk end is replaced by the next chunk\'s whole one, words said twice stay', () => {
    const { a, results, stats } = assembler([0, 3400]);
    const seg = (words: [string, number, number][]) => [
      { start: words[0]![1], end: words.at(-1)![2], text: words.map((w) => w[0]).join(' '), words: words.map(([text, start, end]) => ({ text, start, end })) },
    ];
    // chunk 0 (0-2 s): "네 네" then half of "그래요" (1.8-2.3 s) mangled into two tokens
    a.onReply('네 네 요래그 음', {}, seg([['네', 1000, 1300], ['네', 1400, 1700], ['요래그', 1800, 1900], ['음', 1900, 2000]]));
    // chunk 1 (1.5-3.5 s, times from its start): the second 네 again (1.4-1.7 s: cut by this chunk's start), then 그래요 whole, 네
    a.onReply('네 그래요 네', {}, seg([['네', 0, 200], ['그래요', 300, 800], ['네', 1000, 1300]]));
    a.finishAll();
    expect(results.map((r) => r.text)).toEqual(['네 네 그래요 네']);
    expect(results[0]!.words!.map((w) => [w.text, w.startMs, w.endMs])).toEqual([
      ['네', 1000, 1300],
      ['네', 1400, 1700],
      ['그래요', 1800, 2300],
      ['네', 2500, 2800],
    ]);
    expect(stats).toMatchObject({ timedReplies: 2, overlapWordsRemoved: 1, overlapWordsRetracted: 2 });
  });
});
