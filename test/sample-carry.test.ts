import { describe, expect, it } from 'vitest';
import { SampleCarry } from '../src/stream/sample-carry.js';

/** Deterministic pseudo-random sizes (no Math.random: a failure must reproduce). */
function* sizes(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    yield x % 23; // 0..22 bytes, zero-length chunks included
  }
}

describe('SampleCarry', () => {
  it.each([1, 2, 4])('re-assembles any split of a byte stream into whole %i-byte samples, in order', (sampleBytes) => {
    const data = new Uint8Array(4001).map((_, i) => (i * 7) & 0xff);
    for (const seed of [1, 2, 3, 42]) {
      const carry = new SampleCarry(sampleBytes);
      const out: number[] = [];
      const gen = sizes(seed);
      for (let off = 0; off < data.length; ) {
        const n = gen.next().value as number;
        const piece = carry.push(data.subarray(off, off + n));
        expect(piece.byteLength % sampleBytes).toBe(0);
        out.push(...piece);
        off += n;
      }
      const whole = data.length - (data.length % sampleBytes);
      expect(out).toEqual([...data.subarray(0, whole)]);
      expect(carry.pending).toBe(data.length % sampleBytes);
      expect(carry.drop()).toBe(data.length % sampleBytes);
      expect(carry.pending).toBe(0);
    }
  });

  it('returns the caller’s bytes untouched when nothing is carried, and never keeps a reference to them', () => {
    const carry = new SampleCarry(2);
    const even = new Uint8Array([1, 2, 3, 4]);
    expect(carry.push(even)).toBe(even);
    const odd = new Uint8Array([5, 6, 7]);
    expect([...carry.push(odd)]).toEqual([5, 6]);
    odd[2] = 99; // the caller reuses its buffer
    expect([...carry.push(new Uint8Array([8]))]).toEqual([7, 8]);
  });
});
