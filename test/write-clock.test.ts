import { describe, expect, it } from 'vitest';
import { WriteClock } from '../src/stream/write-clock.js';

describe('WriteClock', () => {
  it('answers when a position was written, across growth of the ring', () => {
    const c = new WriteClock();
    expect(c.writtenAt(0)).toBeUndefined();
    // 3000 writes of 20 ms (60 s of audio) written 20 ms apart starting at t=1000
    for (let k = 1; k <= 3000; k++) c.record(k * 20, 1000 + k * 20);
    expect(c.writtenAt(20)).toBe(1020);
    expect(c.writtenAt(25)).toBe(1040); // inside the second write
    expect(c.writtenAt(30_000)).toBe(31_000);
    expect(c.writtenAt(60_000)).toBe(61_000);
    expect(c.writtenAt(99_999)).toBe(61_000); // beyond everything: the last write
  });

  it('forgets the oldest writes beyond its capacity', () => {
    const c = new WriteClock(300);
    for (let k = 1; k <= 1000; k++) c.record(k * 20, k);
    // writes 701..1000 are kept: position 14000 (write 700) is older, the oldest kept answers
    expect(c.writtenAt(14_000)).toBe(701);
    expect(c.writtenAt(14_020)).toBe(701);
    expect(c.writtenAt(19_990)).toBe(1000);
  });
});
