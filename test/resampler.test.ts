import { describe, expect, it } from 'vitest';
import { Resampler } from '../src/audio/resampler.js';
import { ConfigurationError } from '../src/errors/index.js';
import { sweep, tones, type SweepSubject } from '../bench/lib/tone-sweep.js';

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sineInt16(n: number, freq: number, rate: number, amp: number): Int16Array {
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * i) / rate));
  return x;
}

function sineFloat(n: number, freq: number, rate: number, amp: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

/** Speech-like test signal: a few tones plus noise, in Int16 range. */
function testSignal(n: number, rate: number, seed = 1): Int16Array {
  const r = rng(seed);
  const x = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const v =
      6000 * Math.sin(2 * Math.PI * 220 * t) +
      4000 * Math.sin(2 * Math.PI * 1370 * t + 1) +
      3000 * Math.sin(2 * Math.PI * 3100 * t + 2) +
      2000 * (r() * 2 - 1);
    x[i] = Math.round(v);
  }
  return x;
}

function concatInt16(parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function oneShot(from: number, to: number, x: Int16Array): Int16Array {
  const r = new Resampler({ fromRate: from, toRate: to });
  return concatInt16([r.process(x), r.flush()]);
}

/** Resample frame by frame, reusing one `out` buffer; returns the concatenated output. */
function framed(from: number, to: number, x: Int16Array, sizes: () => number): Int16Array {
  const r = new Resampler({ fromRate: from, toRate: to });
  const parts: Int16Array[] = [];
  let out = new Int16Array(r.maxOutputLength(1));
  for (let i = 0; i < x.length; ) {
    const n = Math.min(sizes(), x.length - i);
    if (out.length < r.maxOutputLength(n)) out = new Int16Array(r.maxOutputLength(n));
    const expected = r.outputLength(n);
    const y = r.process(x.subarray(i, i + n), out);
    expect(y.length).toBe(expected);
    expect(y.buffer).toBe(out.buffer);
    parts.push(y.slice());
    i += n;
  }
  parts.push(r.flush());
  return concatInt16(parts);
}

/** Amplitude of the `freq` component (Goertzel / single DFT bin) of x[start, start+n). */
function toneAmplitude(x: ArrayLike<number>, start: number, n: number, freq: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < n; i++) {
    const v = x[start + i]!;
    const ph = (2 * Math.PI * freq * (start + i)) / rate;
    re += v * Math.cos(ph);
    im -= v * Math.sin(ph);
  }
  return (2 * Math.hypot(re, im)) / n;
}

function rms(x: ArrayLike<number>, start: number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[start + i]! ** 2;
  return Math.sqrt(s / n);
}

const PAIRS: Array<[number, number]> = [
  [8000, 16000],
  [16000, 8000],
  [44100, 16000],
  [8000, 48000],
];

describe('Resampler: construction', () => {
  it('rejects non-positive and non-integer rates with ConfigurationError', () => {
    for (const bad of [0, -8000, 8000.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Resampler({ fromRate: bad, toRate: 16000 })).toThrow(ConfigurationError);
      expect(() => new Resampler({ fromRate: 8000, toRate: bad })).toThrow(ConfigurationError);
    }
    expect(() => new Resampler({ fromRate: 8000, toRate: 16000, quality: 'ultra' as 'fast' })).toThrow(
      /unknown resampler quality/,
    );
    // 47999:48000 cannot be reduced: the table would need 48000 phases.
    expect(() => new Resampler({ fromRate: 47999, toRate: 48000 })).toThrow(/filter table/);
    // Standard rates with awkward ratios are fine (11025 -> 16000 = 640:441).
    expect(new Resampler({ fromRate: 11025, toRate: 16000 }).delaySamples).toBeGreaterThan(0);
  });

  it('exposes rates and a delay that matches the look-ahead', () => {
    const r = new Resampler({ fromRate: 8000, toRate: 16000 });
    expect(r.fromRate).toBe(8000);
    expect(r.toRate).toBe(16000);
    expect(r.delaySamples).toBe(40); // K = 20 input samples = 40 output samples = 2.5 ms
    expect(new Resampler({ fromRate: 16000, toRate: 8000 }).delaySamples).toBe(20); // K = 40 at 16 kHz
    const fast = new Resampler({ fromRate: 8000, toRate: 16000, quality: 'fast' });
    const high = new Resampler({ fromRate: 8000, toRate: 16000, quality: 'high' });
    expect(fast.delaySamples).toBeLessThan(r.delaySamples);
    expect(high.delaySamples).toBeGreaterThan(r.delaySamples);
  });

  it('equal rates: copy-through with zero delay', () => {
    const r = new Resampler({ fromRate: 16000, toRate: 16000 });
    expect(r.delaySamples).toBe(0);
    const x = testSignal(320, 16000);
    expect(Array.from(r.process(x))).toEqual(Array.from(x));
    expect(r.outputLength(123)).toBe(123);
    expect(r.flush().length).toBe(0);
    const f = sineFloat(100, 440, 16000, 0.5);
    const rf = new Resampler({ fromRate: 16000, toRate: 16000 });
    expect(Array.from(rf.processFloat(f))).toEqual(Array.from(f));
    expect(rf.flushFloat().length).toBe(0);
  });
});

describe('Resampler: frame-by-frame equals one-shot', () => {
  for (const [from, to] of PAIRS) {
    it(`${from} -> ${to} Hz, 20 ms frames and random frame sizes (Int16)`, () => {
      const x = testSignal(Math.round(from * 0.75) + 7, from);
      const whole = oneShot(from, to, x);
      expect(whole.length).toBe(Math.round((x.length * to) / from));
      const frame = from / 50;
      const by20ms = framed(from, to, x, () => frame);
      expect(by20ms.length).toBe(whole.length);
      expect(Array.from(by20ms)).toEqual(Array.from(whole));
      const r = rng(from + to);
      const byRandom = framed(from, to, x, () => 1 + Math.floor(r() * 700));
      expect(Array.from(byRandom)).toEqual(Array.from(whole));
      const byOne = framed(from, to, x.subarray(0, 2000), () => 1);
      expect(Array.from(byOne)).toEqual(Array.from(oneShot(from, to, x.subarray(0, 2000))));
    });

    it(`${from} -> ${to} Hz, float32, random frame sizes`, () => {
      const x = sineFloat(from, 700, from, 0.6);
      const a = new Resampler({ fromRate: from, toRate: to });
      const whole = concatFloat([a.processFloat(x), a.flushFloat()]);
      const b = new Resampler({ fromRate: from, toRate: to });
      const r = rng(7);
      const parts: Float32Array[] = [];
      const out = new Float32Array(b.maxOutputLength(1000));
      for (let i = 0; i < x.length; ) {
        const n = Math.min(1 + Math.floor(r() * 1000), x.length - i);
        parts.push(b.processFloat(x.subarray(i, i + n), out).slice());
        i += n;
      }
      parts.push(b.flushFloat());
      const framedOut = concatFloat(parts);
      expect(Array.from(framedOut)).toEqual(Array.from(whole));
    });
  }

  it('a frame boundary has no click: output matches the ideal signal across it', () => {
    // The stateless approach (resampling each frame alone) breaks here; ours must not.
    const x = sineInt16(8000, 1000, 8000, 10000);
    const y = framed(8000, 16000, x, () => 160);
    let maxErr = 0;
    for (let k = 100; k < y.length - 100; k++) {
      const ideal = 10000 * Math.sin((2 * Math.PI * 1000 * k) / 16000);
      maxErr = Math.max(maxErr, Math.abs(y[k]! - ideal));
    }
    expect(maxErr).toBeLessThan(15); // ~ -56 dB of the amplitude, everywhere incl. every 320th sample
  });
});

describe('Resampler: exact sample count', () => {
  it('one hour of 20 ms frames at 8 kHz -> 16 kHz: process outputs + flush == N * 2', () => {
    const r = new Resampler({ fromRate: 8000, toRate: 16000, quality: 'fast' });
    const frame = testSignal(160, 8000);
    const out = new Int16Array(r.maxOutputLength(160));
    const frames = 3600 * 50;
    let total = 0;
    for (let f = 0; f < frames; f++) {
      const n = r.process(frame, out).length;
      // After the first frame every 20 ms in gives exactly 20 ms out.
      if (f > 0 && n !== 320) throw new Error(`frame ${f}: ${n} samples`);
      total += n;
    }
    expect(total).toBe(frames * 320 - r.delaySamples);
    total += r.flush(out).length;
    expect(total).toBe(3600 * 16000);
  }, 60_000);

  it('44.1 kHz -> 16 kHz with random frame sizes: cumulative count follows round(N*L/M) - delay', () => {
    const r = new Resampler({ fromRate: 44100, toRate: 16000, quality: 'fast' });
    const rand = rng(3);
    const out = new Int16Array(r.maxOutputLength(4000));
    const x = testSignal(4000, 44100);
    let n = 0;
    let total = 0;
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 4000);
      total += r.process(x.subarray(0, len), out).length;
      n += len;
      expect(total).toBe(Math.max(0, Math.round((n * 160) / 441) - r.delaySamples));
    }
    total += r.flush().length;
    expect(total).toBe(Math.round((n * 16000) / 44100));
  });

  it('outputLength has no drift for very long streams (24 h in one number)', () => {
    for (const [from, to] of [...PAIRS, [11025, 16000] as [number, number], [48000, 44100] as [number, number]]) {
      const r = new Resampler({ fromRate: from, toRate: to });
      const n = from * 86400 + 12345;
      const exact = (BigInt(n) * BigInt(to) * 2n + BigInt(from)) / (2n * BigInt(from)); // round half up
      expect(r.outputLength(n)).toBe(Number(exact) - r.delaySamples);
    }
  });

  it('short streams: total is still round(N * to / from), even below the delay', () => {
    for (const [from, to] of PAIRS) {
      for (const n of [0, 1, 2, 3, 5, 17, 100]) {
        const r = new Resampler({ fromRate: from, toRate: to });
        const y = concatInt16([r.process(testSignal(n, from)), r.flush()]);
        expect(y.length, `${from}->${to} n=${n}`).toBe(Math.round((n * to) / from));
      }
    }
  });
});

describe('Resampler: signal quality', () => {
  it('1 kHz sine 8 kHz -> 16 kHz keeps its frequency and amplitude (within 1 dB)', () => {
    const amp = 16000;
    const y = framed(8000, 16000, sineInt16(8000, 1000, 8000, amp), () => 160);
    const r = new Resampler({ fromRate: 8000, toRate: 16000 });
    const start = 2 * r.delaySamples;
    const n = 16 * 800; // whole number of 1 kHz periods at 16 kHz
    const a1k = toneAmplitude(y, start, n, 1000, 16000);
    expect(Math.abs(20 * Math.log10(a1k / amp))).toBeLessThan(1);
    expect(Math.abs(20 * Math.log10(a1k / amp))).toBeLessThan(0.05); // in practice
    // All the energy is at 1 kHz: residual after removing the tone is tiny.
    expect(rms(y, start, n)).toBeCloseTo(a1k / Math.SQRT2, -1);
    // Zero crossings: 2 per period -> 1600 in 0.8 s.
    let crossings = 0;
    for (let k = start + 1; k < start + n; k++) if (y[k - 1]! < 0 !== y[k]! < 0) crossings++;
    expect(Math.abs(crossings - 1600)).toBeLessThanOrEqual(1);
  });

  it('zero phase: output sample k is the signal at k / toRate for every rate pair', () => {
    for (const [from, to] of PAIRS) {
      const x = sineFloat(from, 1000, from, 0.5);
      const r = new Resampler({ fromRate: from, toRate: to });
      const y = concatFloat([r.processFloat(x), r.flushFloat()]);
      let maxErr = 0;
      const margin = Math.ceil(to / 50); // skip 20 ms at each end (zero padding)
      for (let k = margin; k < y.length - margin; k++) {
        maxErr = Math.max(maxErr, Math.abs(y[k]! - 0.5 * Math.sin((2 * Math.PI * 1000 * k) / to)));
      }
      expect(maxErr, `${from}->${to}`).toBeLessThan(1e-3);
    }
  });

  it('anti-aliasing: a 6 kHz tone at 16 kHz -> 8 kHz is attenuated by more than 30 dB', () => {
    const amp = 16000;
    for (const quality of ['fast', 'medium', 'high'] as const) {
      const r = new Resampler({ fromRate: 16000, toRate: 8000, quality });
      const y = concatInt16([r.process(sineInt16(16000, 6000, 16000, amp)), r.flush()]);
      const level = rms(y, 400, 7200) / (amp / Math.SQRT2);
      const db = 20 * Math.log10(Math.max(level, 1e-9));
      expect(db, quality).toBeLessThan(-30);
      if (quality !== 'fast') expect(db, quality).toBeLessThan(-60);
    }
    // Sanity: an in-band 1 kHz tone of the same level passes.
    const r = new Resampler({ fromRate: 16000, toRate: 8000 });
    const y = r.process(sineInt16(16000, 1000, 16000, amp));
    expect(rms(y, 400, 7200) / (amp / Math.SQRT2)).toBeGreaterThan(0.98);
  });

  it('upsampling removes images: 3 kHz at 8 kHz -> 48 kHz has no 5 kHz image', () => {
    const r = new Resampler({ fromRate: 8000, toRate: 48000 });
    const y = concatInt16([r.process(sineInt16(8000, 3000, 8000, 16000)), r.flush()]);
    const n = 48 * 800;
    const tone = toneAmplitude(y, 2400, n, 3000, 48000);
    const image = toneAmplitude(y, 2400, n, 5000, 48000);
    expect(20 * Math.log10(image / tone)).toBeLessThan(-50);
  });

  it('DC passes with gain 1', () => {
    for (const [from, to] of PAIRS) {
      const r = new Resampler({ fromRate: from, toRate: to });
      const y = r.process(new Int16Array(from / 10).fill(10000));
      const margin = Math.ceil((r.delaySamples * 2 * from) / to) + 2 * r.delaySamples;
      for (let k = margin; k < y.length; k++) {
        if (Math.abs(y[k]! - 10000) > 1) throw new Error(`${from}->${to}: y[${k}] = ${y[k]}`);
      }
      const f = new Resampler({ fromRate: from, toRate: to }).processFloat(new Float32Array(from / 10).fill(0.25));
      expect(Math.abs(f[f.length - 1]! - 0.25)).toBeLessThan(1e-9);
    }
  });

  it('clamps to the Int16 range instead of wrapping (Gibbs overshoot of a full-scale square wave)', () => {
    const x = new Int16Array(8000);
    for (let i = 0; i < x.length; i++) x[i] = Math.floor(i / 20) % 2 ? -32768 : 32767;
    const y = new Resampler({ fromRate: 8000, toRate: 16000 }).process(x);
    let max = -Infinity;
    let min = Infinity;
    for (const v of y) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    expect(max).toBe(32767);
    expect(min).toBe(-32768);
    // No wrap-around: right after a rising edge the output stays high.
    for (let k = 200; k < y.length - 200; k++) {
      const phase = (k / 2) % 40;
      if (phase > 5 && phase < 15 && y[k]! < 30000) throw new Error(`y[${k}] = ${y[k]}`);
    }
  });

  it('Int16 and float32 paths agree', () => {
    const x = testSignal(4000, 8000);
    const xf = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) xf[i] = x[i]! / 32768;
    const yi = oneShot(8000, 16000, x);
    const r = new Resampler({ fromRate: 8000, toRate: 16000 });
    const yf = concatFloat([r.processFloat(xf), r.flushFloat()]);
    expect(yf.length).toBe(yi.length);
    for (let k = 0; k < yi.length; k++) {
      if (Math.abs(yf[k]! * 32768 - yi[k]!) > 0.5 + 1e-6) throw new Error(`k=${k}`);
    }
  });
});

/** A fresh resampler fed float frames, through the Float32 or the Int16 methods. */
function subject(fromRate: number, toRate: number, quality: 'fast' | 'medium' | 'high', path: 'float' | 'int16'): () => SweepSubject {
  return () => {
    const r = new Resampler({ fromRate, toRate, quality });
    if (path === 'float') return { process: (x) => r.processFloat(x) };
    return {
      process: (x) => {
        const i16 = new Int16Array(x.length);
        for (let i = 0; i < x.length; i++) i16[i] = Math.round(x[i]! * 32767);
        const y = r.process(i16);
        const f = new Float32Array(y.length);
        for (let i = 0; i < y.length; i++) f[i] = y[i]! / 32767;
        return f;
      },
    };
  };
}

describe('Resampler: telephone band on a tone sweep (8 kHz <-> 16 kHz)', () => {
  // Tones every 50 Hz; the pass band of 8 kHz telephone audio ends at 3.4 kHz.
  const band = tones(50, 3400, 50);

  for (const path of ['int16', 'float'] as const) {
    it(`default quality, 8 -> 16 kHz (${path}): flat within 0.5 dB to 3.4 kHz, images below -80 dB`, () => {
      const r = sweep(subject(8000, 16000, 'medium', path), { fromRate: 8000, toRate: 16000, passTones: band, mirrorTones: band });
      expect(r.gainsDb).toHaveLength(band.length);
      expect(r.rippleDb).toBeLessThan(0.5);
      // Each tone's image (at 8000 - f, from 4.6 to 7.95 kHz) is at least 80 dB below the tone.
      expect(r.worstMirrorDb).toBeLessThan(-80);
    });
  }

  it('default quality, 16 -> 8 kHz: flat within 0.5 dB to 3.4 kHz, aliases of 4.6-7.95 kHz below -80 dB', () => {
    const r = sweep(subject(16000, 8000, 'medium', 'int16'), {
      fromRate: 16000,
      toRate: 8000,
      passTones: band,
      mirrorTones: tones(4600, 7950, 50),
    });
    expect(r.rippleDb).toBeLessThan(0.5);
    expect(r.worstMirrorDb).toBeLessThan(-80);
  });

  it('the top of the band: 3.4 kHz passes at 0 dB by default (the 0.1 design lost 1.3 dB there)', () => {
    const r = sweep(subject(8000, 16000, 'medium', 'float'), { fromRate: 8000, toRate: 16000, passTones: [3400, 3500], mirrorTones: [] });
    expect(Math.abs(r.gainsDb[0]!.db)).toBeLessThan(0.05);
    expect(Math.abs(r.gainsDb[1]!.db)).toBeLessThan(0.1);
  });

  it("each quality keeps its documented band: 'fast' to 3.2 kHz, 'high' to 3.6 kHz", () => {
    for (const [quality, top, images] of [
      ['fast', 3200, -55],
      ['high', 3600, -95],
    ] as const) {
      const band = tones(50, top, 50);
      const r = sweep(subject(8000, 16000, quality, 'float'), { fromRate: 8000, toRate: 16000, passTones: band, mirrorTones: band });
      expect(r.rippleDb, quality).toBeLessThan(0.5);
      expect(r.worstMirrorDb, quality).toBeLessThan(images);
    }
  });

  it('the general polyphase path has the same band: 8 -> 48 kHz flat to 3.4 kHz, first image below -80 dB', () => {
    const r = sweep(subject(8000, 48000, 'medium', 'float'), { fromRate: 8000, toRate: 48000, passTones: band, mirrorTones: band });
    expect(r.rippleDb).toBeLessThan(0.5);
    expect(r.worstMirrorDb).toBeLessThan(-80);
  });

  it('the sweep sees a bad filter: the pass-band test fails on a filter that is not flat', () => {
    // A 2-tap average (a crude low-pass) loses ~3 dB at 2 kHz: the measurement must show it.
    const crude = (): SweepSubject => {
      let prev = 0;
      return {
        process: (x) => {
          const y = new Float32Array(x.length * 2);
          for (let i = 0; i < x.length; i++) {
            y[2 * i] = prev;
            y[2 * i + 1] = (prev + x[i]!) / 2;
            prev = x[i]!;
          }
          return y;
        },
      };
    };
    const r = sweep(crude, { fromRate: 8000, toRate: 16000, passTones: [2000], mirrorTones: [2000] });
    expect(r.rippleDb).toBeGreaterThan(0.5);
    expect(r.worstMirrorDb).toBeGreaterThan(-80);
  });
});

describe('Resampler: delay and latency', () => {
  for (const [from, to] of PAIRS) {
    it(`${from} -> ${to} Hz: output is held back by exactly delaySamples, not shifted`, () => {
      const r = new Resampler({ fromRate: from, toRate: to });
      const D = r.delaySamples;
      // An impulse at input index n0 whose time maps exactly to output index k0.
      const step = from / gcd(from, to);
      const n0 = step * Math.ceil(300 / step);
      const k0 = (n0 * to) / from;
      const total = 2 * n0;
      const y: number[] = [];
      let peakReleasedAfter = -1;
      for (let n = 0; n < total; n++) {
        const out = r.processFloat(Float32Array.of(n === n0 ? 0.5 : 0));
        y.push(...out);
        // Latency: after N inputs, exactly round(N*to/from) - D outputs are out.
        if (y.length !== Math.max(0, Math.round(((n + 1) * to) / from) - D)) throw new Error(`n=${n}: ${y.length}`);
        if (peakReleasedAfter < 0 && y.length > k0) peakReleasedAfter = n + 1;
      }
      y.push(...r.flushFloat());
      expect(y.length).toBe((total * to) / from);
      // Zero phase: the impulse response peaks at k0 (time n0/from == k0/to) and is symmetric.
      let peak = 0;
      for (let k = 0; k < y.length; k++) if (Math.abs(y[k]!) > Math.abs(y[peak]!)) peak = k;
      expect(peak).toBe(k0);
      for (let d = 1; d < D; d++) expect(y[k0 + d]!).toBeCloseTo(y[k0 - d]!, 6);
      // The peak is released once the input is D output samples' worth past it.
      expect(Math.round((peakReleasedAfter * to) / from) - D).toBeGreaterThan(k0);
      expect(Math.round(((peakReleasedAfter - 1) * to) / from) - D).toBeLessThanOrEqual(k0);
      // delaySamples is exactly the filter look-ahead: an impulse reaches `reach` output
      // samples ahead of its own time, and nothing is held back beyond that (+1 for rounding).
      // Two impulses, at n0 and n0 + 1: going down 2:1 the half-band filter's taps at even
      // input distances are zeros, so an impulse on an output's own instant reaches no other output.
      let reach = 0;
      for (const shift of [0, 1]) {
        const s = new Resampler({ fromRate: from, toRate: to });
        const x = new Float32Array(total);
        x[n0 + shift] = 0.5;
        const z = concatFloat([s.processFloat(x), s.flushFloat()]);
        const at = ((n0 + shift) * to) / from;
        for (let k = k0; k < z.length; k++) if (z[k] !== 0) reach = Math.max(reach, k - at);
      }
      expect(D).toBeGreaterThanOrEqual(reach);
      expect(D).toBeLessThanOrEqual(reach + 1);
    });
  }

  it('flush emits the held-back tail and resets', () => {
    const x = testSignal(1600, 8000);
    const r = new Resampler({ fromRate: 8000, toRate: 16000 });
    const first = concatInt16([r.process(x), r.flush()]);
    const tail = r.flush();
    expect(tail.length).toBe(0);
    const second = concatInt16([r.process(x), r.flush()]);
    expect(Array.from(second)).toEqual(Array.from(first));
    expect(first.length).toBe(3200);
  });

  it('flush returns at most delaySamples and honours out', () => {
    const r = new Resampler({ fromRate: 16000, toRate: 8000 });
    r.process(testSignal(333, 16000));
    const out = new Int16Array(r.delaySamples);
    const tail = r.flush(out);
    expect(tail.length).toBe(r.delaySamples);
    expect(tail.buffer).toBe(out.buffer);
  });

  it('reset() discards history', () => {
    const x = testSignal(800, 8000);
    const a = new Resampler({ fromRate: 8000, toRate: 16000 });
    a.process(testSignal(999, 8000, 5));
    a.reset();
    const b = new Resampler({ fromRate: 8000, toRate: 16000 });
    expect(Array.from(a.process(x))).toEqual(Array.from(b.process(x)));
  });

  it('throws RangeError when out is too small', () => {
    const r = new Resampler({ fromRate: 8000, toRate: 16000 });
    r.process(new Int16Array(160));
    expect(() => r.process(new Int16Array(160), new Int16Array(100))).toThrow(RangeError);
    expect(() => r.flush(new Int16Array(1))).toThrow(RangeError);
  });
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
