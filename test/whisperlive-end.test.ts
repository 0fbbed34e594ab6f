import { describe, expect, it } from 'vitest';
import { decideEndOfAudio, type CoverageState } from '../src/providers/whisperlive/end-of-audio.js';

const base: CoverageState = { speechEndMs: 9140, committedEndMs: 6930, flushed: true, updatesSinceFlush: 0, lateUpdates: 0 };

describe('WhisperLive: when END_OF_AUDIO may go', () => {
  it('at once when no speech was sent, or the committed segments reach the end of the speech', () => {
    expect(decideEndOfAudio({ ...base, speechEndMs: 0, committedEndMs: -Infinity, flushed: false })).toBe('no-speech');
    expect(decideEndOfAudio({ ...base, committedEndMs: 9130, flushed: false })).toBe('committed');
  });

  it('never on committed segments that stop short of the speech, nor while a segment is in progress and nothing proves coverage', () => {
    expect(decideEndOfAudio({ ...base, committedEndMs: 9000 })).toBe('wait');
    expect(decideEndOfAudio({ ...base, pending: { endMs: 9000 }, updatesSinceFlush: 1, lateUpdates: 1 })).toBe('wait');
    // before the last audio went out, an in-progress segment proves nothing
    expect(decideEndOfAudio({ ...base, pending: { endMs: 9140 }, flushed: false })).toBe('wait');
  });

  it('on an in-progress segment that reaches the end of the speech, received after the last audio went out', () => {
    expect(decideEndOfAudio({ ...base, pending: { endMs: 9140 }, updatesSinceFlush: 1 })).toBe('partial-covers');
    expect(decideEndOfAudio({ ...base, pending: { endMs: 9125 }, updatesSinceFlush: 1 })).toBe('partial-covers');
    expect(decideEndOfAudio({ ...base, pending: { endMs: 9100 }, updatesSinceFlush: 1 })).toBe('wait');
  });

  it('after two updates late enough to come from passes over all the audio, whatever they hold', () => {
    expect(decideEndOfAudio({ ...base, pending: { endMs: 8800 }, updatesSinceFlush: 5, lateUpdates: 1 })).toBe('wait');
    expect(decideEndOfAudio({ ...base, pending: { endMs: 8800 }, updatesSinceFlush: 5, lateUpdates: 2 })).toBe('full-pass');
    expect(decideEndOfAudio({ ...base, updatesSinceFlush: 2, lateUpdates: 2 })).toBe('full-pass');
  });
});
